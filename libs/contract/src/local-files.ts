// ModelFiles over a directory or a single file on local disk, with positioned reads (no whole-file loads).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { KilnError, notFound } from '@kiln/errors';
import type { ModelFiles, RandomAccessFile } from './source';

/** A model on disk: a directory (every regular file under it) or one file (listed under its base name). */
export async function localModelFiles(root: string): Promise<ModelFiles> {
  const stat = await fs.stat(root).catch(() => {
    throw notFound('no such file or directory', root);
  });
  const entries = new Map<string, string>(); // relative '/'-path -> absolute path
  if (stat.isDirectory()) {
    await walk(root, '', entries);
  } else if (stat.isFile()) {
    entries.set(path.basename(root), root);
  } else {
    throw new KilnError('INVALID_ARGUMENT', 'not a regular file or directory', root);
  }
  const sorted = [...entries.keys()].sort();
  return {
    async list() {
      return Promise.all(sorted.map(async (p) => ({ path: p, size: (await fs.stat(entries.get(p)!)).size })));
    },
    async open(p: string) {
      const abs = entries.get(p);
      if (!abs) throw notFound('no such file in the model', p);
      return openLocalFile(abs, p);
    },
  };
}

async function walk(dir: string, rel: string, out: Map<string, string>): Promise<void> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const abs = path.join(dir, e.name);
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) await walk(abs, r, out);
    else if (e.isFile()) out.set(r, abs);
    // Symlinks and special files are left out: a model is its regular files.
  }
}

/** How long a file stays open after its last read: a parser's reads come in bursts (an ONNX model with 10,000
 * initializers makes 10,000 small reads in a row), and an open and a close per read cost more than the read. */
const IDLE_CLOSE_MS = 50;
/** Small reads are served from one cached block of this size: a burst of reads a few KiB apart then costs one
 * system call per block instead of one each. The disk reads no more for it: the kernel's own readahead around any
 * read is 128 KiB. Bytes counted by callers stay those they ask for. */
const BLOCK_BYTES = 64 * 1024;

/** Random access to one local file. The file is opened at the first read and closed once reads stop for
 * IDLE_CLOSE_MS, so callers need no close() and no handle outlives a parse by more than that. */
export async function openLocalFile(abs: string, name = abs): Promise<RandomAccessFile> {
  const { size } = await fs.stat(abs).catch(() => {
    throw notFound('no such file', name);
  });
  let handle: Promise<fs.FileHandle> | undefined;
  let reading = 0;
  let idle: NodeJS.Timeout | undefined;
  let block: { offset: number; bytes: Buffer } | undefined;
  const closeWhenIdle = () => {
    if (reading > 0 || !handle) return;
    const open = handle;
    idle = setTimeout(() => {
      if (reading > 0 || handle !== open) return;
      handle = undefined;
      block = undefined;
      void open.then((fh) => fh.close()).catch(() => {});
    }, IDLE_CLOSE_MS).unref();
  };
  const readAt = async (offset: number, n: number): Promise<Buffer> => {
    handle ??= fs.open(abs, 'r');
    const fh = await handle.catch((err) => {
      handle = undefined;
      throw err;
    });
    const buf = Buffer.alloc(n);
    let done = 0;
    while (done < n) {
      const { bytesRead } = await fh.read(buf, done, n - done, offset + done);
      if (bytesRead === 0) break; // the file shrank under us
      done += bytesRead;
    }
    return done === n ? buf : buf.subarray(0, done);
  };
  return {
    path: name,
    size,
    async read(offset: number, length: number): Promise<Buffer> {
      const n = Math.max(0, Math.min(length, size - offset));
      if (n === 0) return Buffer.alloc(0);
      clearTimeout(idle);
      reading++;
      try {
        if (n > BLOCK_BYTES) return await readAt(offset, n);
        if (!block || offset < block.offset || offset + n > block.offset + block.bytes.length) {
          block = { offset, bytes: await readAt(offset, Math.min(BLOCK_BYTES, size - offset)) };
        }
        const from = offset - block.offset;
        return Buffer.from(block.bytes.subarray(from, Math.min(from + n, block.bytes.length)));
      } finally {
        reading--;
        closeWhenIdle();
      }
    },
  };
}
