// Reproducible tar streams: sorted entries, parent directories, mtime 0, root owner, fixed modes.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import tar from 'tar-stream';
import { KilnError, invalidArgument } from '@kiln/errors';

export const FILE_MODE = 0o644;
export const EXEC_MODE = 0o755;
export const DIR_MODE = 0o755;

/**
 * An entry to put in a tar: a regular file (the default), whose `sha256` (hex) and `size` are checked while its bytes
 * stream; or, for root filesystems (Kiln's own image), a directory with its own mode and owner (instead of the
 * implied 0755 root-owned parent) or a symbolic link. Neither of those has bytes: size 0, `open` never called.
 */
export interface TarFile {
  /** Path inside the image, relative to / (no leading slash, no trailing one): `model/weights.bin`. */
  name: string;
  size: number;
  mode: number;
  /** Hex sha256 of the content; checked while streaming when set. */
  sha256?: string;
  open(): Promise<Readable> | Readable;
  type?: 'file' | 'directory' | 'symlink';
  /** A symlink's target. */
  linkname?: string;
  /** Owner (default 0, root). */
  uid?: number;
  gid?: number;
}

/** A directory entry of a root filesystem (`tmp` 0o1777, a data folder owned by the image's user). */
export function tarDirectory(name: string, mode: number, owner: { uid?: number; gid?: number } = {}): TarFile {
  return { name, size: 0, mode, type: 'directory', ...owner, open: () => { throw new Error('a directory has no bytes'); } };
}

/** A symbolic link entry. */
export function tarSymlink(name: string, target: string): TarFile {
  return { name, size: 0, mode: 0o777, type: 'symlink', linkname: target, open: () => { throw new Error('a symlink has no bytes'); } };
}

/**
 * Checks a relative POSIX path (no `.`, `..`, empty segments, backslashes or NULs) and returns it unchanged.
 */
export function checkRelativePath(path: string, location: string): string {
  if (path.length === 0) throw invalidArgument('empty path', location);
  if (path.startsWith('/')) throw invalidArgument(`path must be relative: ${path}`, location);
  if (/[\\\0]/.test(path)) throw invalidArgument(`path has a backslash or NUL: ${JSON.stringify(path)}`, location);
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') throw invalidArgument(`bad path segment in ${path}`, location);
  }
  return path;
}

/** Every parent directory of the given file names, as `a/`, `a/b/` (sorted, unique). */
export function parentDirectories(names: Iterable<string>): string[] {
  const dirs = new Set<string>();
  for (const name of names) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/') + '/');
  }
  return [...dirs].sort(compareBytes);
}

/** Byte order of the UTF-8 encodings: the same on every machine and locale. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

const EPOCH = new Date(0);

/** Largest size a ustar header holds (11 octal digits); larger files need a pax header. */
const USTAR_MAX_SIZE = 0o77777777777;
const BLOCK = 512;

/**
 * The exact length in bytes of reproducibleTar(files) when every entry fits a plain ustar header (names of at most
 * 100 bytes in ASCII, sizes under 8 GiB), so that a push can declare its Content-Length up front; undefined when a
 * pax header would be needed (its length is tar-stream's to decide).
 */
export function tarSize(files: readonly Pick<TarFile, 'name' | 'size'>[]): number | undefined {
  const plain = (name: string) => name.length <= 100 && /^[\x20-\x7e]*$/.test(name);
  let total = 2 * BLOCK; // the end-of-archive marker
  const explicit = new Set(files.filter((f) => (f as TarFile).type === 'directory').map((f) => `${f.name}/`));
  for (const dir of parentDirectories(files.map((f) => f.name))) {
    if (explicit.has(dir)) continue;
    if (!plain(dir)) return undefined;
    total += BLOCK;
  }
  for (const file of files) {
    const { type, linkname } = file as TarFile;
    if (type === 'directory' || type === 'symlink') {
      if (!plain(type === 'directory' ? `${file.name}/` : file.name) || (linkname !== undefined && !plain(linkname))) return undefined;
      total += BLOCK;
      continue;
    }
    if (!plain(file.name) || file.size > USTAR_MAX_SIZE) return undefined;
    total += BLOCK + Math.ceil(file.size / BLOCK) * BLOCK;
  }
  return total;
}

/**
 * A tar stream of the files plus their parent directories, in byte order, with every variable field fixed. Files
 * are opened one at a time, as the tar reaches them; nothing is buffered beyond stream chunks.
 */
export function reproducibleTar(files: readonly TarFile[]): Readable {
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.name)) throw invalidArgument(`duplicate path in layer: ${f.name}`, f.name);
    seen.add(f.name);
  }
  const explicitDirs = new Map(files.filter((f) => f.type === 'directory').map((f) => [`${f.name}/`, f]));
  const dirs = parentDirectories(files.map((f) => f.name));
  for (const d of dirs) {
    const same = files.find((f) => f.name === d.slice(0, -1));
    if (same && same.type !== 'directory') throw invalidArgument(`path is both a file and a directory: ${d}`, d);
  }
  type Entry = { name: string; file?: TarFile };
  const entries: Entry[] = [
    ...dirs.filter((d) => !explicitDirs.has(d)).map((name) => ({ name })),
    ...files.map((file) => ({ name: file.type === 'directory' ? `${file.name}/` : file.name, file })),
  ];
  entries.sort((a, b) => compareBytes(a.name, b.name));

  const pack = tar.pack();
  const fill = async () => {
    for (const entry of entries) {
      const common = { mtime: EPOCH, uid: entry.file?.uid ?? 0, gid: entry.file?.gid ?? 0, uname: '', gname: '' };
      if (entry.file?.type === 'directory' || entry.file?.type === 'symlink') {
        const { type, mode, linkname } = entry.file;
        await new Promise<void>((resolve, reject) =>
          pack.entry({ ...common, name: entry.name, type, mode, ...(linkname ? { linkname } : {}) }, (err) => (err ? reject(err) : resolve())),
        );
        continue;
      }
      if (!entry.file) {
        await new Promise<void>((resolve, reject) =>
          pack.entry({ ...common, name: entry.name, type: 'directory', mode: DIR_MODE }, (err) =>
            err ? reject(err) : resolve(),
          ),
        );
        continue;
      }
      const file = entry.file;
      let done!: Promise<void>;
      const sink = await new Promise<Writable>((resolve) => {
        done = new Promise<void>((res, rej) => {
          const w = pack.entry({ ...common, name: file.name, type: 'file', mode: file.mode, size: file.size }, (err) =>
            err ? rej(err) : res(),
          );
          resolve(w as unknown as Writable);
        });
      });
      done.catch(() => {}); // surfaced below
      const source = await file.open();
      const hash = file.sha256 ? createHash('sha256') : undefined;
      let size = 0;
      try {
      for await (const chunk of source) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > file.size) {
          source.destroy();
          throw new KilnError('FAILED_PRECONDITION', `file is larger than its declared ${file.size} bytes`, file.name);
        }
        hash?.update(buf);
        if (!sink.write(buf)) await once(sink, 'drain');
      }
      } finally {
        source.destroy();
      }
      if (size !== file.size) {
        throw new KilnError('FAILED_PRECONDITION', `file has ${size} bytes, declared ${file.size}`, file.name);
      }
      if (hash) {
        const actual = hash.digest('hex');
        if (actual !== file.sha256) {
          throw new KilnError('FAILED_PRECONDITION', `sha256 is ${actual}, declared ${file.sha256}`, file.name);
        }
      }
      sink.end();
      await done;
    }
    pack.finalize();
  };
  // tar-stream's streams are streamx streams; hand callers a plain Node Readable with back-pressure and errors.
  const out = new PassThrough();
  pack.on('data', (chunk: unknown) => {
    if (!out.write(chunk as Buffer)) pack.pause();
  });
  out.on('drain', () => pack.resume());
  pack.on('end', () => out.end());
  pack.on('error', (err: Error) => out.destroy(err));
  out.on('close', () => {
    if (!pack.destroyed) pack.destroy();
  });
  fill().catch((err) => {
    out.destroy(err);
    pack.destroy();
  });
  return out;
}
