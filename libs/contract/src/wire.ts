// A protobuf wire-format scanner over a RandomAccessFile: walks a message field by field, reading small windows,
// so that parsers decode only the few small submessages they need and jump over the rest (weights, graphs).
import protobuf from 'protobufjs';
import { KilnError } from '@kiln/errors';
import type { RandomAccessFile } from './source';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** The largest submessage we agree to load into memory and decode: metadata, never weights. */
export const MAX_DECODE_BYTES = 64 * 1024 * 1024;
/** The largest string field (names, producer...) we agree to read. */
export const MAX_STRING_BYTES = 1024 * 1024;

const MIN_WINDOW = 4 * 1024;
const MAX_WINDOW = 256 * 1024;
/** A field's tag (at most 5 bytes for a valid field number) and length or value varint (at most 10). */
const MAX_HEADER = 15;

export interface WireReaderOptions {
  /** How much to read after a jump (skipping a large field). Parsers that hop over many large fields, reading only
   * each one's first bytes, make it small; the default suits jumps followed by a whole small message. */
  jumpWindow?: number;
}

/** One field of a message, as found on the wire. */
export interface WireField {
  /** The field number. */
  number: number;
  /** 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
  wireType: number;
  /** Where the field's payload starts in the file. */
  offset: number;
  /** Payload length in bytes (the declared length for wire type 2; 8, 4 or the varint's size otherwise). */
  length: number;
  /** The value of a varint field (wire type 0), as an unsigned 64-bit integer. */
  varint: bigint;
}

/** A byte range of the file holding one message. */
export interface Span {
  offset: number;
  length: number;
}

export function invalid(file: RandomAccessFile, offset: number, message: string): KilnError {
  return new KilnError('INVALID_ARGUMENT', message, `${file.path}@${offset}`);
}

/** Buffered random access: serves small reads from a window that grows while reading forward and shrinks after a
 * jump, so skipping a large field costs nothing and scanning many small fields costs few reads. */
export class WireReader {
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;
  private window = MIN_WINDOW;
  private readonly jumpWindow: number;

  constructor(readonly file: RandomAccessFile, options: WireReaderOptions = {}) {
    this.jumpWindow = options.jumpWindow ?? MIN_WINDOW;
  }

  get size(): number {
    return this.file.size;
  }

  /** Makes [pos, pos + n) available in the window (n clipped to the file's end). Returns how many bytes are. */
  private async ensure(pos: number, n: number): Promise<number> {
    const want = Math.min(n, this.file.size - pos);
    if (want <= 0) return 0;
    const bufEnd = this.bufStart + this.buf.length;
    if (pos >= this.bufStart && pos + want <= bufEnd) return want;
    // Reading on from (about) the window's end doubles the window, so adjacent small reads coalesce; a jump over more
    // than a jump window's worth starts small again, so skipped data is never read, however it is laid out.
    const near = pos >= this.bufStart && pos <= bufEnd + this.jumpWindow;
    this.window = near ? Math.min(Math.max(this.window * 2, MIN_WINDOW), MAX_WINDOW) : this.jumpWindow;
    const length = Math.min(Math.max(want, this.window), this.file.size - pos);
    const data = await this.file.read(pos, length);
    if (data.length < want) throw invalid(this.file, pos, `file ended early: wanted ${want} bytes, got ${data.length}`);
    this.buf = data;
    this.bufStart = pos;
    return want;
  }

  /** Decodes the varint at `pos` from the window, not past `limit`; a string says why it cannot. */
  private varintAt(pos: number, limit: number): { value: bigint; next: number } | 'truncated' | 'too long' {
    const avail = Math.min(this.bufStart + this.buf.length, limit) - pos;
    const base = pos - this.bufStart;
    if (base < 0) return 'truncated';
    let value = 0n;
    for (let i = 0; i < avail && i < 10; i++) {
      const b = this.buf[base + i];
      value |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return { value: BigInt.asUintN(64, value), next: pos + i + 1 };
    }
    return avail >= 10 ? 'too long' : 'truncated';
  }

  /** Reads a varint at `pos`, not past `limit`. */
  async varint(pos: number, limit: number): Promise<{ value: bigint; next: number }> {
    await this.ensure(pos, 10);
    const v = this.varintAt(pos, limit);
    if (typeof v === 'string') throw invalid(this.file, pos, v === 'too long' ? 'varint longer than 10 bytes' : 'truncated varint');
    return v;
  }

  /** The field whose tag is at `pos` in a message ending at `end`, from the window. Strict: corrupt or missing
   * bytes throw (the caller made the header available); otherwise they give undefined. */
  private header(pos: number, end: number, strict: boolean): WireField | undefined {
    const fail = (at: number, message: string): undefined => {
      if (strict) throw invalid(this.file, at, message);
      return undefined;
    };
    const varint = (at: number) => {
      const v = this.varintAt(at, end);
      return typeof v === 'string' ? fail(at, v === 'too long' ? 'varint longer than 10 bytes' : 'truncated varint') : v;
    };
    const tag = varint(pos);
    if (!tag) return undefined;
    if (tag.value > 0xffffffffn) return fail(pos, 'field tag out of range');
    const number = Number(tag.value >> 3n);
    const wireType = Number(tag.value & 7n);
    if (number === 0) return fail(pos, 'field number 0');
    const at = tag.next;
    let f: WireField;
    switch (wireType) {
      case WIRE_VARINT: {
        const v = varint(at);
        if (!v) return undefined;
        f = { number, wireType, offset: at, length: v.next - at, varint: v.value };
        break;
      }
      case WIRE_FIXED64:
        f = { number, wireType, offset: at, length: 8, varint: 0n };
        break;
      case WIRE_FIXED32:
        f = { number, wireType, offset: at, length: 4, varint: 0n };
        break;
      case WIRE_LEN: {
        const len = varint(at);
        if (!len) return undefined;
        if (len.value > BigInt(end - len.next)) {
          return fail(pos, `field ${number} declares ${len.value} bytes, more than the ${end - len.next} left in its message`);
        }
        f = { number, wireType, offset: len.next, length: Number(len.value), varint: 0n };
        break;
      }
      default:
        return fail(pos, `unsupported wire type ${wireType} for field ${number}`);
    }
    if (f.offset + f.length > end) return fail(pos, `field ${number} runs past the end of its message`);
    return f;
  }

  /** Copies `length` bytes at `offset` (checked against the file and `max`). */
  async bytes(offset: number, length: number, max = MAX_DECODE_BYTES, what = 'field'): Promise<Buffer> {
    if (length > max) {
      throw invalid(this.file, offset, `${what} of ${length} bytes is larger than the ${max}-byte limit for metadata`);
    }
    if (offset + length > this.file.size) throw invalid(this.file, offset, `${what} runs past the end of the file`);
    if (length > MAX_WINDOW) {
      const data = await this.file.read(offset, length);
      if (data.length < length) throw invalid(this.file, offset, `file ended early reading ${what}`);
      return data;
    }
    await this.ensure(offset, length);
    const start = offset - this.bufStart;
    return Buffer.from(this.buf.subarray(start, start + length));
  }

  /** Reads a UTF-8 string field's payload. */
  async string(f: WireField, what = 'string'): Promise<string> {
    expectWireType(this.file, f, WIRE_LEN, what);
    return (await this.bytes(f.offset, f.length, MAX_STRING_BYTES, what)).toString('utf8');
  }

  /** Iterates the fields of the message in `span`, never reading length-delimited payloads. */
  async *fields(span: Span, from = span.offset): AsyncGenerator<WireField> {
    const end = span.offset + span.length;
    if (span.offset < 0 || end > this.file.size) throw invalid(this.file, span.offset, 'message runs past the end of the file');
    for (let pos = from; pos < end; ) {
      await this.ensure(pos, Math.min(MAX_HEADER, end - pos));
      const f = this.header(pos, end, true)!;
      pos = f.offset + f.length;
      yield f;
    }
  }

  /** The fields of `span` (from `from`) whose headers are already in the window, without reading anything: stops at
   * the first one that is not (`next` is where; the span's end when all were). Corrupt bytes also stop it, for
   * fields() to report if the caller goes on reading. */
  peekFields(span: Span, from = span.offset): { fields: WireField[]; next: number } {
    const end = span.offset + span.length;
    const fields: WireField[] = [];
    let pos = from;
    while (pos < end) {
      const f = this.header(pos, end, false);
      if (!f) break;
      fields.push(f);
      pos = f.offset + f.length;
    }
    return { fields, next: pos };
  }

  /** `length` bytes at `offset` if they are already in the window (no read), else undefined. */
  peekBytes(offset: number, length: number): Buffer | undefined {
    const start = offset - this.bufStart;
    if (start < 0 || start + length > this.buf.length) return undefined;
    return this.buf.subarray(start, start + length);
  }

  /** Reads and decodes a (small) submessage with a protobufjs type, as a plain object: enums and 64-bit integers as
   * numbers, absent fields absent (so proto2 presence shows). */
  async decode<T>(type: protobuf.Type, f: WireField): Promise<T> {
    expectWireType(this.file, f, WIRE_LEN, type.name);
    const data = await this.bytes(f.offset, f.length, MAX_DECODE_BYTES, type.name);
    try {
      return type.toObject(type.decode(data), { longs: Number, enums: Number, defaults: false, arrays: true }) as T;
    } catch (err) {
      // protobufjs throws plain errors (or RangeError on deep nesting) for corrupt data.
      const msg = err instanceof Error ? err.message : String(err);
      throw new KilnError('INVALID_ARGUMENT', `corrupt ${type.name}: ${msg}`, `${this.file.path}@${f.offset}`, { cause: err });
    }
  }
}

export function expectWireType(file: RandomAccessFile, f: WireField, wireType: number, what: string): void {
  if (f.wireType !== wireType) {
    throw invalid(file, f.offset, `${what} (field ${f.number}) has wire type ${f.wireType}, expected ${wireType}`);
  }
}

/** A varint field as a signed 64-bit number (int64/int32 semantics). */
export function signedVarint(file: RandomAccessFile, f: WireField, what: string): number {
  expectWireType(file, f, WIRE_VARINT, what);
  return Number(BigInt.asIntN(64, f.varint));
}

/** A varint field as a signed 64-bit integer, exactly. */
export function int64Varint(file: RandomAccessFile, f: WireField, what: string): bigint {
  expectWireType(file, f, WIRE_VARINT, what);
  return BigInt.asIntN(64, f.varint);
}

/** The span of a length-delimited field's payload, to scan it as a message. */
export function span(file: RandomAccessFile, f: WireField, what: string): Span {
  expectWireType(file, f, WIRE_LEN, what);
  return { offset: f.offset, length: f.length };
}

/** A whole file as one message. */
export const wholeFile = (file: RandomAccessFile): Span => ({ offset: 0, length: file.size });

/** Parses a minimal .proto schema (only the fields a parser needs; unknown fields are skipped by protobufjs). */
export function schema(source: string): protobuf.Root {
  return protobuf.parse(source, { keepCase: true }).root;
}

/** Counts how many bytes a RandomAccessFile hands out (tests and benchmarks check that parsers read little). */
export class CountingFile implements RandomAccessFile {
  bytesRead = 0;
  reads = 0;
  constructor(private readonly inner: RandomAccessFile) {}
  get path(): string {
    return this.inner.path;
  }
  get size(): number {
    return this.inner.size;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    const data = await this.inner.read(offset, length);
    this.bytesRead += data.length;
    this.reads++;
    return data;
  }
}

/** A RandomAccessFile over bytes in memory (generated test data, archive entries already in memory). */
export function bufferFile(path: string, data: Buffer): RandomAccessFile {
  return {
    path,
    size: data.length,
    async read(offset: number, length: number): Promise<Buffer> {
      return data.subarray(offset, Math.min(offset + length, data.length));
    },
  };
}
