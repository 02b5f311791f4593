// Test fixtures: deterministic pseudo-random model files (seeded PRNG), written to disk and offered as ModelFiles.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { ModelFile } from '../model-layers';

/** mulberry32 bytes from a seed: the same seed gives the same bytes on every machine. */
export function seededBytes(seed: number, size: number): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  let a = seed >>> 0;
  for (let i = 0; i < words.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    words[i] = (t ^ (t >>> 14)) >>> 0;
  }
  return Buffer.from(words.buffer, 0, size);
}

export interface FixtureFile {
  path: string;
  content: Buffer;
  executable?: boolean;
}

/** Writes the files under dir and returns them as ModelFiles streamed from disk. */
export async function writeModelFiles(dir: string, files: FixtureFile[]): Promise<ModelFile[]> {
  const out: ModelFile[] = [];
  for (const f of files) {
    const full = path.join(dir, f.path);
    await fs.mkdir(path.dirname(full), { recursive: true });
    await fs.writeFile(full, f.content);
    out.push(diskModelFile(full, f.path, createHash('sha256').update(f.content).digest('hex'), f.content.length, f.executable));
  }
  return out;
}

export function diskModelFile(full: string, rel: string, sha256: string, size: number, executable = false): ModelFile & { opens: number } {
  const file = {
    path: rel,
    size,
    sha256,
    executable,
    opens: 0,
    open: async () => {
      file.opens++;
      return createReadStream(full, { highWaterMark: 1 << 20 });
    },
  };
  return file;
}

/** A small model: one weight above a 1 MiB threshold, a few small files, one nested, one executable. */
export function sampleModel(seed = 1, weightSize = 3 * 1024 * 1024 + 17): FixtureFile[] {
  return [
    { path: 'weights/model.bin', content: seededBytes(seed, weightSize) },
    { path: 'config.json', content: Buffer.from(JSON.stringify({ seed, layers: 3 })) },
    { path: 'tokenizer/vocab.txt', content: seededBytes(seed + 1, 200_000) },
    { path: 'serve.sh', content: Buffer.from('#!/bin/sh\necho serving\n'), executable: true },
    { path: 'README', content: Buffer.from('a test model\n') },
  ];
}
