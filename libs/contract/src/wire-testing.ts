// Test helpers for the parsers built on the wire scanner: a seeded PRNG, in-memory model files, a fuzz loop that
// requires every corrupt input to end in a KilnError or a valid result within a time bound, and synthetic ONNX models
// of any size (also used by bench/inference).
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { isKilnError } from '@kiln/errors';
import type { ModelFiles, RandomAccessFile } from './source';
import { bufferFile } from './wire';

/** mulberry32: a small seeded PRNG, so fuzz failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A model of in-memory files. */
export function memoryFiles(files: Record<string, Buffer>): ModelFiles {
  return {
    async list() {
      return Object.keys(files).sort().map((p) => ({ path: p, size: files[p].length }));
    },
    async open(p) {
      if (!files[p]) throw new Error(`no ${p}`);
      return bufferFile(p, files[p]);
    },
  };
}

/** Corrupt variants of `data`: truncations and random byte mutations. */
export function* corruptions(data: Buffer, seed: number, cases: number): Generator<{ what: string; bytes: Buffer }> {
  const rnd = prng(seed);
  for (let i = 0; i < cases; i++) {
    if (i % 2 === 0) {
      const n = Math.floor(rnd() * data.length);
      yield { what: `truncated to ${n}`, bytes: data.subarray(0, n) };
    } else {
      const b = Buffer.from(data);
      const flips = 1 + Math.floor(rnd() * 8);
      const at: number[] = [];
      for (let k = 0; k < flips; k++) {
        const p = Math.floor(rnd() * b.length);
        b[p] = Math.floor(rnd() * 256);
        at.push(p);
      }
      yield { what: `mutated at ${at.join(',')}`, bytes: b };
    }
  }
}

/** Runs `parse` on each corrupt input: each must resolve or reject with a KilnError, within `ms`. */
export async function fuzz(
  inputs: Iterable<{ what: string; bytes: Buffer }>,
  parse: (bytes: Buffer) => Promise<unknown>,
  ms = 2000,
): Promise<{ ok: number; rejected: number }> {
  let ok = 0;
  let rejected = 0;
  for (const { what, bytes } of inputs) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    });
    try {
      await Promise.race([parse(bytes), timeout]);
      ok++;
    } catch (err) {
      assert.ok(isKilnError(err), `${what}: ${err instanceof Error ? err.stack : String(err)}`);
      assert.equal(err.code, 'INVALID_ARGUMENT', `${what}: ${err.message}`);
      rejected++;
    } finally {
      clearTimeout(timer);
    }
  }
  return { ok, rejected };
}

/** Values of every JSON type, for putting where a document expects another. */
const ODD_VALUES: unknown[] = [null, 0, -1, 1.5, 2.5, 1e308, '', 'x', [], ['a', 'b'], ['a', 0, 0], [1, 2], [null, 3], {}, { a: 1 }, { name: 'float16' }, true];

/** Replaces one value somewhere in a JSON document with a value of another type (or drops a key): fuzzing for
 * formats whose metadata is JSON (Keras configs, Spark stage metadata). */
export function mutateJson(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value) && value.length && rand() < 0.75) {
    const i = Math.floor(rand() * value.length);
    return value.map((v, j) => (j === i ? mutateJson(v, rand) : v));
  }
  if (value && typeof value === 'object' && !Array.isArray(value) && rand() < 0.85) {
    const keys = Object.keys(value);
    if (keys.length) {
      const k = keys[Math.floor(rand() * keys.length)];
      if (rand() < 0.1) {
        const { [k]: _, ...rest } = value as Record<string, unknown>;
        return rest;
      }
      return { ...value, [k]: mutateJson((value as Record<string, unknown>)[k], rand) };
    }
  }
  return ODD_VALUES[Math.floor(rand() * ODD_VALUES.length)];
}

/** A model file described in parts: bytes as they are, and a number for that many bytes of tensor data. */
export type Parts = Array<Buffer | number>;

/** The filler byte of tensor data in Parts (0x3c3c3c3c is a valid float, so the data is valid too). */
const FILL = 0x3c;

const partsLength = (parts: Parts) => parts.reduce<number>((n, p) => n + (typeof p === 'number' ? p : p.length), 0);

/** A RandomAccessFile over Parts: a model of any size in a few bytes of memory. */
export function partsFile(path: string, parts: Parts): RandomAccessFile {
  const starts: number[] = [];
  let size = 0;
  for (const p of parts) {
    starts.push(size);
    size += typeof p === 'number' ? p : p.length;
  }
  return {
    path,
    size,
    async read(offset, length) {
      const out = Buffer.alloc(Math.max(0, Math.min(length, size - offset)), FILL);
      // The last part starting at or before offset (binary search), then on while parts overlap the read.
      let lo = 0;
      for (let hi = starts.length - 1; lo < hi; ) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= offset) lo = mid;
        else hi = mid - 1;
      }
      for (let i = lo; i < parts.length && starts[i] < offset + out.length; i++) {
        const p = parts[i];
        if (typeof p === 'number') continue;
        const from = Math.max(offset, starts[i]);
        const to = Math.min(offset + out.length, starts[i] + p.length);
        if (from < to) p.copy(out, from - offset, from - starts[i], to - starts[i]);
      }
      return out;
    },
  };
}

/** An ONNX model for tests and the benchmark, written field by field in the order onnx's serializer uses. */
export interface SyntheticOnnx {
  /** Graph inputs and outputs: float tensors of shape [batch, width]. */
  inputs: string[];
  outputs: string[];
  /** FLOAT initializers; their data is raw_data (after the name), or packed float_data (before it) if floatData. */
  initializers: Array<{ name: string; dims: number[]; floatData?: boolean }>;
  /** Width of the inputs' and outputs' second dim. */
  width?: number;
}

/** A SyntheticOnnx as Parts: a MatMul chain over the initializers, tensor data as byte counts. */
export function syntheticOnnx(m: SyntheticOnnx): Parts {
  const enc = (build: (w: protobuf.Writer) => void) => {
    const w = protobuf.Writer.create();
    build(w);
    return Buffer.from(w.finish());
  };
  const lenPrefix = (fieldNo: number, len: number) => enc((w) => w.uint32((fieldNo << 3) | 2).uint32(len));
  const field = (fieldNo: number, payload: Buffer) => [lenPrefix(fieldNo, payload.length), payload];
  const valueInfo = (name: string) =>
    enc((w) => {
      w.uint32((1 << 3) | 2).string(name);
      w.uint32((2 << 3) | 2).fork(); // TypeProto
      w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 0).int32(1); // tensor_type { elem_type FLOAT
      w.uint32((2 << 3) | 2).fork(); // shape
      w.uint32((1 << 3) | 2).fork().uint32((2 << 3) | 2).string('batch').ldelim();
      w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 0).int64(m.width ?? 4096).ldelim();
      w.ldelim().ldelim().ldelim();
    });
  const n = m.initializers.length;
  const node = (i: number) =>
    enc((w) => {
      w.uint32((1 << 3) | 2).string(i === 0 ? (m.inputs[0] ?? 'X') : `h${i - 1}`);
      w.uint32((1 << 3) | 2).string(m.initializers[i].name);
      w.uint32((2 << 3) | 2).string(i === n - 1 ? (m.outputs[0] ?? 'Y') : `h${i}`);
      w.uint32((4 << 3) | 2).string('MatMul');
    });
  const graph: Parts = [];
  for (let i = 0; i < n; i++) graph.push(...field(1, node(i)));
  graph.push(enc((w) => w.uint32((2 << 3) | 2).string('synthetic')));
  for (const t of m.initializers) {
    const bytes = 4 * t.dims.reduce((a, b) => a * b, 1);
    const head = enc((w) => {
      for (const d of t.dims) w.uint32((1 << 3) | 0).int64(d); // dims (proto2: not packed)
      w.uint32((2 << 3) | 0).int32(1); // data_type FLOAT
      if (t.floatData) w.uint32((4 << 3) | 2).uint32(bytes); // float_data (packed), then the data
    });
    const name = enc((w) => w.uint32((8 << 3) | 2).string(t.name));
    const tensor: Parts = t.floatData ? [head, bytes, name] : [head, name, lenPrefix(9, bytes), bytes];
    graph.push(lenPrefix(5, partsLength(tensor)), ...tensor);
  }
  for (const i of m.inputs) graph.push(...field(11, valueInfo(i)));
  for (const o of m.outputs) graph.push(...field(12, valueInfo(o)));
  return [
    enc((w) => w.uint32((1 << 3) | 0).int64(8).uint32((2 << 3) | 2).string('kiln-synthetic')),
    lenPrefix(7, partsLength(graph)),
    ...graph,
    enc((w) => w.uint32((8 << 3) | 2).fork().uint32((1 << 3) | 2).string('').uint32((2 << 3) | 0).int64(17).ldelim()),
  ];
}
