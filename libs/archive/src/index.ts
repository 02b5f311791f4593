// Streaming reader for uploaded model archives (tar, tar.gz, or one plain file): validates every entry as it goes
// and hands each file's bytes to a callback, never holding a file in memory. Every rejection names the entry.
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { KilnError, invalidArgument, resourceExhausted } from '@kiln/errors';
import { normalizeEntryPath, resolveLinkTarget } from './paths';

export { normalizeEntryPath, resolveLinkTarget } from './paths';

export type ArchiveFormat = 'tar' | 'tar.gz' | 'file' | 'auto';

export interface ArchiveLimits {
  /** Largest single file. */
  maxFileBytes: number;
  /** Largest sum of file sizes (decompressed): stops gzip bombs. */
  maxTotalBytes: number;
  /** Most files. */
  maxFiles: number;
}

export interface ArchiveFile {
  path: string;
  size: number;
  executable: boolean;
}

/** A link inside the archive that points at another file of it; the caller records it as a copy of its target. */
export interface ArchiveLink {
  path: string;
  target: string;
  executable: boolean;
}

export interface ReadArchiveOptions {
  format: ArchiveFormat;
  /** The name of the file when the upload is a single file. */
  fileName?: string;
  limits: ArchiveLimits;
  /** Called once per file with a stream of its bytes, which must be consumed before the promise settles. */
  onFile(file: ArchiveFile, content: Readable): Promise<void>;
}

export interface ArchiveSummary {
  format: Exclude<ArchiveFormat, 'auto'>;
  files: ArchiveFile[];
  /** Links resolved to the files they point at (hard links and symlinks inside the root). */
  links: ArchiveLink[];
}

const TAR_MAGIC_OFFSET = 257;

/** Reads the whole archive; rejects with a KilnError (INVALID_ARGUMENT naming the entry, or RESOURCE_EXHAUSTED). */
export async function readArchive(input: Readable, options: ReadArchiveOptions): Promise<ArchiveSummary> {
  const { head, stream } = await peek(input, TAR_MAGIC_OFFSET + 8);
  const format = options.format === 'auto' ? detectFormat(head, options.fileName) : options.format;
  if (format === 'file') return readSingleFile(stream, options);
  if (format === 'tar.gz') {
    if (head.length >= 2 && !(head[0] === 0x1f && head[1] === 0x8b)) {
      stream.destroy();
      throw invalidArgument('the upload is not gzip-compressed (no gzip magic bytes)', 'archive');
    }
    const gunzip = createGunzip();
    const counted = new ByteLimit(options.limits.maxTotalBytes + 64 * 1024 * 1024, 'decompressed archive');
    // Errors of the gzip layer surface through the tar reader below; the pipeline just keeps them flowing.
    pipeline(stream, gunzip, counted).catch((err) => counted.destroy(wrapGzipError(err)));
    return readTar(counted, 'tar.gz', options);
  }
  return readTar(stream, 'tar', options);
}

function detectFormat(head: Buffer, fileName: string | undefined): Exclude<ArchiveFormat, 'auto'> {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b && !fileName) return 'tar.gz';
  if (head.length >= TAR_MAGIC_OFFSET + 5 && head.subarray(TAR_MAGIC_OFFSET, TAR_MAGIC_OFFSET + 5).toString('latin1') === 'ustar' && !fileName) {
    return 'tar';
  }
  if (fileName) return 'file';
  throw invalidArgument(
    'cannot tell how the upload is packed: it is neither tar nor gzip-compressed tar; for a single file set file_name (or format ARCHIVE_FORMAT_FILE)',
    'header.format',
  );
}

async function readSingleFile(stream: Readable, options: ReadArchiveOptions): Promise<ArchiveSummary> {
  if (!options.fileName) throw invalidArgument('a single-file upload needs file_name', 'header.file_name');
  const path = normalizeEntryPath(options.fileName, 'header.file_name');
  if (!path) throw invalidArgument('file_name is empty', 'header.file_name');
  const counted = new ByteLimit(Math.min(options.limits.maxFileBytes, options.limits.maxTotalBytes), path);
  const file: ArchiveFile = { path, size: -1, executable: false };
  try {
    await Promise.all([pipeline(stream, counted), options.onFile(file, counted)]);
  } catch (err) {
    stream.destroy();
    counted.destroy();
    throw err;
  }
  file.size = counted.bytes;
  return { format: 'file', files: [file], links: [] };
}

async function readTar(input: Readable, format: 'tar' | 'tar.gz', options: ReadArchiveOptions): Promise<ArchiveSummary> {
  const { limits } = options;
  const extract = tar.extract();
  const files: ArchiveFile[] = [];
  const links: ArchiveLink[] = [];
  const seen = new Set<string>();
  const directories = new Set<string>();
  let total = 0;
  let entries = 0;

  const feeding = pipeline(input, extract).catch((err) => {
    extract.destroy(err instanceof KilnError ? err : invalidArgument(`the tar stream is corrupt: ${err.message}`, 'archive'));
  });

  try {
    for await (const entry of extract) {
      const header = entry.header;
      entries += 1;
      const where = `archive entry ${JSON.stringify(header.name)}`;
      if (entries > limits.maxFiles * 2 + 1000) throw invalidArgument(`more than ${limits.maxFiles} files`, where);
      const path = normalizeEntryPath(header.name, where);
      switch (header.type) {
        case 'directory':
          if (path) directories.add(path);
          entry.resume();
          break;
        case 'file':
        case 'contiguous-file': {
          if (!path) throw invalidArgument('a file entry has an empty path', where);
          if (seen.has(path)) throw invalidArgument(`duplicate path ${path}`, where);
          seen.add(path);
          const size = header.size ?? 0;
          if (files.length + 1 > limits.maxFiles) throw invalidArgument(`more than ${limits.maxFiles} files`, where);
          if (size > limits.maxFileBytes) {
            throw invalidArgument(`file is ${size} bytes, over the limit of ${limits.maxFileBytes}`, where);
          }
          total += size;
          if (total > limits.maxTotalBytes) {
            throw resourceExhausted(`the upload's files add up to more than ${limits.maxTotalBytes} bytes`, where);
          }
          const executable = ((header.mode ?? 0o644) & 0o111) !== 0;
          const file: ArchiveFile = { path, size, executable };
          files.push(file);
          await options.onFile(file, entry as unknown as Readable);
          break;
        }
        case 'link':
        case 'symlink': {
          if (!path) throw invalidArgument('a link entry has an empty path', where);
          if (seen.has(path)) throw invalidArgument(`duplicate path ${path}`, where);
          seen.add(path);
          const target = resolveLinkTarget(path, header.linkname ?? '', header.type === 'link', where);
          links.push({ path, target, executable: ((header.mode ?? 0o644) & 0o111) !== 0 });
          entry.resume();
          break;
        }
        default:
          // tar-stream consumes pax and GNU long-name headers itself; whatever reaches here is a device or fifo.
          throw invalidArgument(`entries of type ${header.type} (devices, fifos) are not allowed`, where);
      }
    }
  } catch (err) {
    input.destroy();
    extract.destroy();
    throw err instanceof KilnError ? err : invalidArgument(`cannot read the archive: ${(err as Error).message}`, 'archive');
  }
  await feeding;
  return { format, files, links: resolveLinks(links, files, directories) };
}

/** Links must end at a file of the archive (following chains); a link to a directory or nothing is rejected. */
function resolveLinks(links: ArchiveLink[], files: ArchiveFile[], directories: Set<string>): ArchiveLink[] {
  const filePaths = new Set(files.map((f) => f.path));
  const byPath = new Map(links.map((l) => [l.path, l]));
  return links.map((link) => {
    let target = link.target;
    for (let hops = 0; byPath.has(target); hops++) {
      if (hops > 40) throw invalidArgument('too many levels of links', `archive entry ${JSON.stringify(link.path)}`);
      target = byPath.get(target)!.target;
    }
    if (!filePaths.has(target)) {
      const what = directories.has(target) ? 'a directory' : 'no file in the archive';
      throw invalidArgument(`link target ${target} is ${what}`, `archive entry ${JSON.stringify(link.path)}`);
    }
    return { ...link, target };
  });
}

/** Reads the first `size` bytes (or fewer at end) and returns them with a stream that still yields every byte. */
async function peek(input: Readable, size: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let length = 0;
  const iterator = input[Symbol.asyncIterator]();
  while (length < size) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    chunks.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest() {
    if (head.length) yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  }
  const stream = Readable.from(rest(), { objectMode: false });
  stream.on('close', () => void iterator.return?.());
  return { head: head.subarray(0, size), stream };
}

/** Passes bytes through, failing once more than `limit` have passed. */
export class ByteLimit extends Transform {
  private seen = 0;
  get bytes(): number {
    return this.seen;
  }
  constructor(private readonly limit: number, private readonly what: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      callback(resourceExhausted(`more than ${this.limit} bytes`, this.what));
      return;
    }
    callback(null, chunk);
  }
}

function wrapGzipError(err: unknown): Error {
  if (err instanceof KilnError) return err;
  return invalidArgument(`the gzip stream is corrupt: ${(err as Error).message}`, 'archive');
}
