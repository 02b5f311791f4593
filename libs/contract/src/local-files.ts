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

/** Random access to one local file. Each read opens and closes the file, so no handle outlives a call and callers
 * need no close(); the open is cheap next to the read and parsers make few reads. */
export async function openLocalFile(abs: string, name = abs): Promise<RandomAccessFile> {
  const { size } = await fs.stat(abs).catch(() => {
    throw notFound('no such file', name);
  });
  return {
    path: name,
    size,
    async read(offset: number, length: number): Promise<Buffer> {
      const n = Math.max(0, Math.min(length, size - offset));
      const buf = Buffer.alloc(n);
      if (n === 0) return buf;
      const fh = await fs.open(abs, 'r');
      try {
        let done = 0;
        while (done < n) {
          const { bytesRead } = await fh.read(buf, done, n - done, offset + done);
          if (bytesRead === 0) break; // the file shrank under us
          done += bytesRead;
        }
        return done === n ? buf : buf.subarray(0, done);
      } finally {
        await fh.close();
      }
    },
  };
}
