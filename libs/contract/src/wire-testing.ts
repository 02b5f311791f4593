// Test helpers for the parsers built on the wire scanner: a seeded PRNG, in-memory model files and a fuzz loop that
// requires every corrupt input to end in a KilnError or a valid result, within a time bound.
import assert from 'node:assert/strict';
import { isKilnError } from '@kiln/errors';
import type { ModelFiles } from './source';
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
