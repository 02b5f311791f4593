// Reads saved_model.pbtxt (protobuf text format). No maintained JS library parses protobuf text format (protobufjs
// reads .proto schemas, binary and JSON, not text messages), so this is a small streaming tokenizer plus a parser
// driven by protobufjs reflection: fields the schema leaves out (graph_def, ...) are skipped by bracket matching.
import protobuf from 'protobufjs';
import { KilnError } from '@kiln/errors';
import type { RandomAccessFile } from './source';
import { MAX_DECODE_BYTES } from './wire';
import type { SavedModelMsg } from './savedmodel';

const CHUNK = 64 * 1024;
const MAX_DEPTH = 64;

interface Token {
  kind: 'ident' | 'number' | 'string' | 'punct';
  /** The token's text; for strings, the decoded bytes as UTF-8. */
  text: string;
  offset: number;
}

const NEED_MORE = Symbol('need more');
const PUNCT = new Set('{}<>[]:,;/'.split(''));
const isWordChar = (c: number) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2e || c === 0x2b || c === 0x2d;

/** Tokens of a text-format file, read in chunks; only the current token is held, never the whole file. */
class Tokenizer {
  private data = Buffer.alloc(0);
  private dataStart = 0; // file offset of data[0]
  private pos = 0;
  private eof = false;
  private peeked: Token | null | undefined;

  constructor(readonly file: RandomAccessFile) {}

  error(offset: number, message: string): KilnError {
    return new KilnError('INVALID_ARGUMENT', message, `${this.file.path}@${offset}`);
  }

  async peek(): Promise<Token | null> {
    if (this.peeked === undefined) this.peeked = await this.read();
    return this.peeked;
  }

  async next(): Promise<Token | null> {
    const t = await this.peek();
    this.peeked = undefined;
    return t;
  }

  private async more(): Promise<void> {
    const at = this.dataStart + this.data.length;
    if (at >= this.file.size) {
      this.eof = true;
      return;
    }
    const chunk = await this.file.read(at, Math.min(CHUNK, this.file.size - at));
    if (chunk.length === 0) throw this.error(at, 'file ended early');
    this.data = Buffer.concat([this.data.subarray(this.pos), chunk]);
    this.dataStart += this.pos;
    this.pos = 0;
  }

  private async read(): Promise<Token | null> {
    for (;;) {
      const t = this.scan();
      if (t !== NEED_MORE) return t;
      if (this.data.length - this.pos > MAX_DECODE_BYTES) throw this.error(this.dataStart + this.pos, 'token too long');
      await this.more();
    }
  }

  /** One token from the buffer, or NEED_MORE when it may continue past the buffer's end. */
  private scan(): Token | null | typeof NEED_MORE {
    const d = this.data;
    let i = this.pos;
    // Whitespace and # comments.
    for (;;) {
      if (i >= d.length) {
        this.pos = i;
        return this.eof ? null : NEED_MORE;
      }
      const c = d[i];
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c) i++;
      else if (c === 0x23) {
        const nl = d.indexOf(0x0a, i);
        if (nl < 0) {
          this.pos = i;
          if (!this.eof) return NEED_MORE;
          i = d.length;
        } else i = nl + 1;
      } else break;
    }
    this.pos = i;
    const offset = this.dataStart + i;
    const c = d[i];
    const ch = String.fromCharCode(c);
    if (PUNCT.has(ch)) {
      this.pos = i + 1;
      return { kind: 'punct', text: ch, offset };
    }
    if (c === 0x22 || c === 0x27) {
      let j = i + 1;
      for (; j < d.length && d[j] !== c; j++) {
        if (d[j] === 0x0a) throw this.error(this.dataStart + j, 'newline in string');
        if (d[j] === 0x5c) j++; // the escaped char cannot end the string
      }
      if (j >= d.length) {
        if (this.eof) throw this.error(offset, 'unterminated string');
        return NEED_MORE;
      }
      this.pos = j + 1;
      return { kind: 'string', text: unescape(d.subarray(i + 1, j), (m) => this.error(offset, m)), offset };
    }
    if (isWordChar(c)) {
      let j = i;
      while (j < d.length && isWordChar(d[j])) j++;
      if (j >= d.length && !this.eof) return NEED_MORE;
      this.pos = j;
      const text = d.toString('latin1', i, j);
      const kind = /^[A-Za-z_]/.test(text) ? 'ident' : 'number';
      return { kind, text, offset };
    }
    throw this.error(offset, `unexpected character ${JSON.stringify(ch)}`);
  }
}

/** C-style escapes of protobuf text format, decoded to bytes and read as UTF-8. */
function unescape(raw: Buffer, fail: (m: string) => KilnError): string {
  if (!raw.includes(0x5c)) return raw.toString('utf8');
  const out: number[] = [];
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x5c) {
      out.push(raw[i]);
      continue;
    }
    const e = String.fromCharCode(raw[++i]);
    if (e in simple) out.push(simple[e]);
    else if (/[0-7]/.test(e)) {
      let v = 0;
      let k = 0;
      for (; k < 3 && i < raw.length && raw[i] >= 0x30 && raw[i] <= 0x37; k++) v = v * 8 + raw[i++] - 0x30;
      i--;
      out.push(v & 0xff);
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const max = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      let hex = '';
      while (hex.length < max && i + 1 < raw.length && /[0-9a-fA-F]/.test(String.fromCharCode(raw[i + 1]))) hex += String.fromCharCode(raw[++i]);
      if (!hex) throw fail(`bad \\${e} escape`);
      const v = parseInt(hex, 16);
      if (e === 'x') out.push(v);
      else if (v > 0x10ffff) throw fail(`bad \\${e} escape`);
      else out.push(...Buffer.from(String.fromCodePoint(v), 'utf8'));
    } else throw fail(`bad escape \\${e}`);
  }
  return Buffer.from(out).toString('utf8');
}

const CLOSE: Record<string, string> = { '{': '}', '<': '>' };

/** A text-format parser over a protobufjs schema: produces the same plain objects as Type.toObject with enums and
 * longs as numbers, maps as objects. */
class TextParser {
  constructor(private readonly tk: Tokenizer) {}

  private async expect(texts: string[]): Promise<Token> {
    const t = await this.tk.next();
    if (!t || t.kind !== 'punct' || !texts.includes(t.text)) {
      throw this.tk.error(t?.offset ?? this.tk.file.size, `expected ${texts.join(' or ')}, found ${t ? JSON.stringify(t.text) : 'end of file'}`);
    }
    return t;
  }

  private async isPunct(text: string): Promise<boolean> {
    const t = await this.tk.peek();
    return !!t && t.kind === 'punct' && t.text === text;
  }

  async message(type: protobuf.Type, close: string | null, depth: number): Promise<Record<string, unknown>> {
    if (depth > MAX_DEPTH) throw this.tk.error((await this.tk.peek())?.offset ?? 0, `messages nest more than ${MAX_DEPTH} deep`);
    const obj: Record<string, unknown> = {};
    for (;;) {
      const t = await this.tk.next();
      if (!t) {
        if (close === null) return obj;
        throw this.tk.error(this.tk.file.size, `unexpected end of file, expected ${close}`);
      }
      if (t.kind === 'punct' && t.text === close) return obj;
      if (t.kind === 'punct' && (t.text === ',' || t.text === ';')) continue;
      let name: string;
      if (t.kind === 'ident') name = t.text;
      else if (t.kind === 'punct' && t.text === '[') {
        // An extension or Any type URL: never one of ours.
        while (!(await this.isPunct(']'))) if (!(await this.tk.next())) throw this.tk.error(t.offset, 'unterminated [name]');
        await this.tk.next();
        name = '';
      } else throw this.tk.error(t.offset, `expected a field name, found ${JSON.stringify(t.text)}`);
      const f = type.fields[name];
      if (!f) await this.skipValue();
      else await this.fieldValue(f, obj, depth);
    }
  }

  private async fieldValue(f: protobuf.Field, obj: Record<string, unknown>, depth: number): Promise<void> {
    if (await this.isPunct(':')) await this.tk.next();
    const list = await this.isPunct('[');
    if (list) await this.tk.next();
    for (;;) {
      if (list && (await this.isPunct(']'))) {
        await this.tk.next();
        return;
      }
      if (f instanceof protobuf.MapField) {
        const entry = await this.mapEntry(f, depth);
        const map = (obj[f.name] ??= {}) as Record<string, unknown>;
        map[String(entry.key)] = entry.value;
      } else {
        const v = await this.single(f.resolvedType, f.type, depth);
        if (f.repeated) ((obj[f.name] ??= []) as unknown[]).push(v);
        else obj[f.name] = v;
      }
      if (!list) return;
      if (await this.isPunct(',')) await this.tk.next();
    }
  }

  private async mapEntry(f: protobuf.MapField, depth: number): Promise<{ key: unknown; value: unknown }> {
    const open = await this.expect(['{', '<']);
    let key: unknown = f.keyType === 'string' ? '' : 0;
    let value: unknown = f.resolvedType instanceof protobuf.Type ? {} : undefined;
    for (;;) {
      const t = await this.tk.next();
      if (!t) throw this.tk.error(open.offset, 'unterminated map entry');
      if (t.kind === 'punct' && t.text === CLOSE[open.text]) return { key, value };
      if (t.kind === 'punct' && (t.text === ',' || t.text === ';')) continue;
      if (t.kind === 'ident' && (t.text === 'key' || t.text === 'value')) {
        if (await this.isPunct(':')) await this.tk.next();
        if (t.text === 'key') key = await this.single(null, f.keyType, depth);
        else value = await this.single(f.resolvedType, f.type, depth);
      } else throw this.tk.error(t.offset, `unexpected ${JSON.stringify(t.text)} in a map entry`);
    }
  }

  private async single(rt: protobuf.Type | protobuf.Enum | null, scalar: string, depth: number): Promise<unknown> {
    if (rt instanceof protobuf.Type) {
      const open = await this.expect(['{', '<']);
      return this.message(rt, CLOSE[open.text], depth + 1);
    }
    const t = await this.tk.next();
    if (!t || t.kind === 'punct') throw this.tk.error(t?.offset ?? this.tk.file.size, 'expected a value');
    if (rt instanceof protobuf.Enum) {
      if (t.kind === 'number') return this.integer(t);
      const v = rt.values[t.text];
      if (v === undefined) throw this.tk.error(t.offset, `unknown ${rt.name} value ${t.text}`);
      return v;
    }
    switch (scalar) {
      case 'string':
      case 'bytes': {
        if (t.kind !== 'string') throw this.tk.error(t.offset, 'expected a string');
        let s = t.text;
        // Adjacent strings concatenate.
        for (let n = await this.tk.peek(); n?.kind === 'string'; n = await this.tk.peek()) s += (await this.tk.next())!.text;
        return s;
      }
      case 'bool':
        if (['true', 't', '1', 'True'].includes(t.text)) return true;
        if (['false', 'f', '0', 'False'].includes(t.text)) return false;
        throw this.tk.error(t.offset, `expected true or false, found ${t.text}`);
      case 'double':
      case 'float': {
        const v = /^-?(inf|infinity)$/i.test(t.text) ? (t.text.startsWith('-') ? -Infinity : Infinity) : /^nan$/i.test(t.text) ? NaN : Number(t.text.replace(/[fF]$/, ''));
        if (Number.isNaN(v) && !/nan/i.test(t.text)) throw this.tk.error(t.offset, `expected a number, found ${t.text}`);
        return v;
      }
      default:
        return this.integer(t);
    }
  }

  private integer(t: Token): number {
    const neg = t.text.startsWith('-');
    const body = neg ? t.text.slice(1) : t.text;
    const v = /^0[0-7]+$/.test(body) ? parseInt(body, 8) : Number(body);
    if (t.kind !== 'number' || !Number.isInteger(v)) throw this.tk.error(t.offset, `expected an integer, found ${t.text}`);
    return neg ? -v : v;
  }

  /** Skips one field value: a message, a list, or a scalar (with adjacent strings). */
  private async skipValue(): Promise<void> {
    if (await this.isPunct(':')) await this.tk.next();
    const first = await this.tk.next();
    if (!first) throw this.tk.error(this.tk.file.size, 'expected a value, found end of file');
    if (first.kind === 'punct' && (first.text === '{' || first.text === '<' || first.text === '[')) {
      let level = 1;
      while (level > 0) {
        const t = await this.tk.next();
        if (!t) throw this.tk.error(first.offset, 'unterminated value');
        if (t.kind !== 'punct') continue;
        if (t.text === '{' || t.text === '<' || t.text === '[') level++;
        else if (t.text === '}' || t.text === '>' || t.text === ']') level--;
      }
      return;
    }
    if (first.kind === 'punct') throw this.tk.error(first.offset, `expected a value, found ${first.text}`);
    if (first.kind === 'string') while ((await this.tk.peek())?.kind === 'string') await this.tk.next();
  }
}

/** Parses a saved_model.pbtxt into the parts of SavedModel that `root` declares. */
export async function parseTextSavedModel(file: RandomAccessFile, root: protobuf.Root): Promise<SavedModelMsg> {
  return (await parseTextMessage(file, root, 'tensorflow.SavedModel')) as SavedModelMsg;
}

/** Parses a text-format file as the message `typeName` of `root` (fields the schema leaves out are skipped). */
export async function parseTextMessage(file: RandomAccessFile, root: protobuf.Root, typeName: string): Promise<Record<string, unknown>> {
  root.resolveAll();
  return new TextParser(new Tokenizer(file)).message(root.lookupType(typeName), null, 0);
}
