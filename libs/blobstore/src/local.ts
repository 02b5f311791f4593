// The local-directory blob store (the embedded default): <root>/blobs/sha256/ab/<hex>, written via <root>/tmp/.
import { randomUUID } from 'node:crypto';
import { createWriteStream, type Dir } from 'node:fs';
import { access, constants, mkdir, open, opendir, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalidArgument, notFound } from '@kiln/errors';
import {
  cancelled,
  checkDigest,
  checkMaxBytes,
  checkRange,
  DigestStream,
  isDigest,
  type BlobInfo,
  type BlobStore,
  type ByteRange,
  type PutOptions,
  type StagedBlob,
  type StagingObject,
} from './index';

/** A temp file's name (randomUUID's): never a path. */
const TEMP_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface LocalBlobStoreOptions {
  /** The folder that holds `blobs/` and `tmp/`; created when missing. */
  root: string;
}

export class LocalBlobStore implements BlobStore {
  readonly root: string;
  readonly #blobDir: string;
  readonly #tmpDir: string;
  #ready: Promise<void> | undefined;

  constructor(options: LocalBlobStoreOptions) {
    this.root = options.root;
    this.#blobDir = join(this.root, 'blobs', 'sha256');
    this.#tmpDir = join(this.root, 'tmp');
  }

  #ensureDirs(): Promise<void> {
    this.#ready ??= Promise.all([
      mkdir(this.#blobDir, { recursive: true }),
      mkdir(this.#tmpDir, { recursive: true }),
    ]).then(() => undefined);
    return this.#ready;
  }

  #pathOf(digest: string): string {
    return join(this.#blobDir, digest.slice(0, 2), digest);
  }

  async put(source: Readable, options: PutOptions = {}): Promise<BlobInfo> {
    const staged = await this.stage(source, options);
    await staged.commit();
    return { digest: staged.digest, size: staged.size };
  }

  async stage(source: Readable, options: PutOptions = {}): Promise<StagedBlob> {
    checkMaxBytes(options.maxBytes);
    if (options.signal?.aborted) {
      source.destroy();
      throw cancelled('put', options.signal.reason);
    }
    await this.#ensureDirs();
    const name = randomUUID();
    const tmpPath = join(this.#tmpDir, name);
    try {
      await options.onStaging?.({ key: name });
    } catch (err) {
      source.destroy();
      throw err;
    }
    try {
      const digester = new DigestStream(options.maxBytes);
      const out = createWriteStream(tmpPath, { flags: 'wx', mode: 0o644 });
      try {
        await pipeline(source, digester, out, { signal: options.signal });
      } catch (err) {
        // pipeline rejects at the first error while the file may still be opening: removed before it is created, the
        // temp file would be left behind.
        if (!out.closed) await new Promise<void>((closed) => out.once('close', () => closed())); // its error is pipeline's
        if (options.signal?.aborted) throw cancelled('put', err);
        throw err;
      }
      // Durable before visible: the rename must not expose a blob whose bytes a crash could still lose.
      await syncFile(tmpPath);
      const info = digester.result();
      return {
        ...info,
        commit: async () => {
          try {
            const shard = join(this.#blobDir, info.digest.slice(0, 2));
            const finalPath = join(shard, info.digest);
            if (await exists(finalPath)) {
              await unlink(tmpPath);
            } else {
              await mkdir(shard, { recursive: true });
              // Atomic; two puts of the same bytes racing here both succeed with identical content.
              await rename(tmpPath, finalPath);
              await syncFile(shard);
            }
          } catch (err) {
            await rm(tmpPath, { force: true });
            throw err;
          }
        },
        abort: () => rm(tmpPath, { force: true }),
      };
    } catch (err) {
      await rm(tmpPath, { force: true });
      throw err;
    }
  }

  async stat(digest: string): Promise<{ size: number } | null> {
    checkDigest(digest);
    try {
      return { size: (await stat(this.#pathOf(digest))).size };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async #openBlob(digest: string): Promise<{ file: FileHandle; size: number }> {
    checkDigest(digest);
    let file: FileHandle;
    try {
      file = await open(this.#pathOf(digest), 'r');
    } catch (err) {
      if (isMissing(err)) throw notFound('no such blob', `blob ${digest}`);
      throw err;
    }
    try {
      return { file, size: (await file.stat()).size };
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  async read(digest: string, range?: ByteRange): Promise<Readable> {
    const { file, size } = await this.#openBlob(digest);
    try {
      if (range) checkRange(digest, range, size);
    } catch (err) {
      await file.close();
      throw err;
    }
    if (range && range.length === 0) {
      // createReadStream cannot express an empty range (its end is inclusive).
      await file.close();
      return Readable.from([]);
    }
    return file.createReadStream(range ? { start: range.offset, end: range.offset + range.length - 1 } : {});
  }

  async readRange(digest: string, offset: number, length: number): Promise<Buffer> {
    const { file, size } = await this.#openBlob(digest);
    try {
      checkRange(digest, { offset, length }, size);
      const buffer = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await file.read(buffer, done, length - done, offset + done);
        if (bytesRead === 0) throw new Error(`blob ${digest} ended early at ${offset + done}`);
        done += bytesRead;
      }
      return buffer;
    } finally {
      await file.close();
    }
  }

  async delete(digest: string): Promise<void> {
    checkDigest(digest);
    await rm(this.#pathOf(digest), { force: true });
  }

  async discardStaging(object: StagingObject): Promise<void> {
    // A committed put's temp file was renamed into place: what is still under its name was never committed.
    if (!TEMP_NAME.test(object.key)) throw invalidArgument(`not a temp file of this store: ${JSON.stringify(object.key)}`, 'key');
    await rm(join(this.#tmpDir, object.key), { force: true });
  }

  async *list(): AsyncIterable<BlobInfo> {
    await this.#ensureDirs();
    for (const shard of await readdir(this.#blobDir)) {
      let dir: Dir;
      try {
        dir = await opendir(join(this.#blobDir, shard));
      } catch (err) {
        if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
        throw err;
      }
      for await (const entry of dir) {
        if (!entry.isFile() || !isDigest(entry.name)) continue;
        try {
          yield { digest: entry.name, size: (await stat(join(dir.path, entry.name))).size };
        } catch (err) {
          if (!isMissing(err)) throw err; // deleted while listing
        }
      }
    }
  }

  async listIncomplete(): Promise<number> {
    await this.#ensureDirs();
    return (await readdir(this.#tmpDir)).length;
  }

  async cleanupIncomplete(olderThanMs: number): Promise<number> {
    await this.#ensureDirs();
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of await readdir(this.#tmpDir)) {
      const path = join(this.#tmpDir, name);
      try {
        // 0 means all: a put still writing keeps touching its file, so its mtime may pass a cutoff of "now".
        if (olderThanMs > 0 && (await stat(path)).mtimeMs > cutoff) continue;
        await unlink(path);
        removed++;
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    }
    return removed;
  }

  async ping(): Promise<void> {
    await this.#ensureDirs();
    // Where puts write: a folder that went away, turned read-only or hangs (a lost network mount) fails here.
    await access(this.#tmpDir, constants.W_OK);
  }
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

/** fsync through a fresh descriptor: it flushes the file's (or folder's) data whoever wrote it. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
