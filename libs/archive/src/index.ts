// Streaming reader for uploaded model archives (tar, tar.gz, or one plain file): validates every entry as it goes
// and hands each file's bytes to a callback, never holding a file in memory. Every rejection names the entry.
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { KilnError, invalidArgument, isAbortError } from '@kiln/errors';
import { EntryPaths, normalizeEntryPath, resolveLinkTarget } from './paths';

export { normalizeEntryPath, resolveLinkTarget } from './paths';

export type ArchiveFormat = 'tar' | 'tar.gz' | 'file' | 'auto';

/**
 * Per-upload limits. Content over one is INVALID_ARGUMENT naming the entry and the limit, not RESOURCE_EXHAUSTED:
 * the upload itself is wrong for this registry and sending it again cannot succeed, whereas RESOURCE_EXHAUSTED
 * means the server is short of something for now (callers such as the build queue retry it). Links count as
 * files, and toward the total as copies of their targets, because each becomes one in the version.
 */
export interface ArchiveLimits {
  /** Largest single file. */
  maxFileBytes: number;
  /** Largest sum of file sizes (decompressed, links counted at their target's size): stops gzip bombs. */
  maxTotalBytes: number;
  /** Most files (links included). */
  maxFiles: number;
  /**
   * Most bytes a .tar.gz may inflate to per compressed byte read (0 or absent: no such limit), checked once the
   * output passes RATIO_FLOOR_BYTES: bounds what one small request costs in CPU far below maxTotalBytes.
   */
  maxCompressionRatio?: number;
}

/** Output a .tar.gz may reach at any ratio: small archives of very compressible files (text, sparse weights) are
 * never refused for their ratio, while a bomb is stopped after a fraction of a second of inflating. */
export const RATIO_FLOOR_BYTES = 64 * 1024 * 1024;

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
  /** The number of bytes the client announced (0 or absent: unknown): a stream that ends early or runs long fails. */
  expectedBytes?: number;
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
/** What a tar adds to its files' bytes (headers, padding, long names) that the decompressed cap allows for. */
const TAR_OVERHEAD_ALLOWANCE = 64 * 1024 * 1024;

/** Reads the whole archive; rejects with a KilnError (INVALID_ARGUMENT naming the entry or the header field). */
export async function readArchive(input: Readable, options: ReadArchiveOptions): Promise<ArchiveSummary> {
  if (options.expectedBytes) input = checkLength(input, options.expectedBytes);
  const { head, stream } = await peek(input, TAR_MAGIC_OFFSET + 8);
  const format = options.format === 'auto' ? detectFormat(head, options.fileName) : options.format;
  if (format === 'file') return readSingleFile(stream, options);
  if (format === 'tar.gz') {
    if (head.length >= 2 && !(head[0] === 0x1f && head[1] === 0x8b)) {
      stream.destroy();
      throw invalidArgument('the upload is not gzip-compressed (no gzip magic bytes)', 'archive');
    }
    const gunzip = createGunzip();
    const position: TarPosition = {};
    const { maxTotalBytes, maxCompressionRatio: ratio = 0 } = options.limits;
    // Files are checked against the limits from their headers; this cap stops what headers do not declare (zero
    // blocks, which tar readers skip, or long-name records), so a gzip bomb inflates no further than this.
    const cap = maxTotalBytes + TAR_OVERHEAD_ALLOWANCE;
    const compressed = new ByteLimit(() => undefined);
    const counted = new ByteLimit((inflated) => {
      const where = position.entry ?? 'archive';
      if (inflated > cap) {
        return invalidArgument(
          `the archive decompresses to more than ${cap} bytes: over the limit of ${maxTotalBytes} bytes for the whole ` +
            `upload plus ${TAR_OVERHEAD_ALLOWANCE} bytes for tar headers`,
          where,
        );
      }
      // The bytes gunzip was given, a little ahead of what it has read: the ratio is never overstated.
      if (ratio > 0 && inflated > RATIO_FLOOR_BYTES && inflated > ratio * compressed.bytes) {
        return invalidArgument(
          `the archive decompresses to more than ${ratio} times its compressed size (${inflated} bytes from ${compressed.bytes}), ` +
            `over the decompression ratio limit (KILN_MAX_DECOMPRESSION_RATIO, checked past ${RATIO_FLOOR_BYTES} bytes)`,
          where,
        );
      }
      return undefined;
    });
    // Errors of the gzip layer surface through the tar reader below; the pipeline just keeps them flowing.
    pipeline(stream, compressed, gunzip, counted).catch((err) => counted.destroy(wrapGzipError(err)));
    return readTar(counted, 'tar.gz', options, position);
  }
  return readTar(stream, 'tar', options, {});
}

/** The entry being read (its `archive entry "name"` location), for errors raised below the tar reader. */
interface TarPosition {
  entry?: string;
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
  const { maxFileBytes, maxTotalBytes } = options.limits;
  const [limit, which] = maxFileBytes <= maxTotalBytes ? [maxFileBytes, 'per file'] : [maxTotalBytes, 'for the whole upload'];
  const counted = new ByteLimit((bytes) => (bytes > limit ? invalidArgument(`the file is over the limit of ${limit} bytes ${which}`, path) : undefined));
  const file: ArchiveFile = { path, size: -1, executable: false };
  // Both sides settle before this returns, so a failed file's store has cleaned up (no open multipart upload) by
  // the time the caller hears of the failure. The first failure is the cause and the one reported (the other side
  // fails because of it, stopped below), with one exception: a store that fails stops reading, and that ends the
  // input's pipeline with an AbortError, often before the store has finished cleaning up and said why.
  const failures: Array<{ error: unknown; side: 'input' | 'file' }> = [];
  const settle = (side: 'input' | 'file', promise: Promise<void>) =>
    promise.catch((error) => {
      failures.push({ error, side });
      stream.destroy();
      counted.destroy();
    });
  await Promise.all([settle('input', pipeline(stream, counted)), settle('file', options.onFile(file, counted))]);
  const [first, second] = failures;
  const failure = first?.side === 'input' && isAbortError(first.error) && second ? second : first;
  if (failure) throw failure.error;
  file.size = counted.bytes;
  return { format: 'file', files: [file], links: [] };
}

async function readTar(input: Readable, format: 'tar' | 'tar.gz', options: ReadArchiveOptions, position: TarPosition): Promise<ArchiveSummary> {
  const { limits } = options;
  const extract = tar.extract();
  const files: ArchiveFile[] = [];
  const links: ArchiveLink[] = [];
  const paths = new EntryPaths();
  let total = 0;
  let entries = 0;
  // Files and links are capped by maxFiles; this bounds the rest (folders).
  const maxEntries = limits.maxFiles * 2 + 1000;
  const countFile = (where: string) => {
    if (files.length + links.length + 1 > limits.maxFiles) {
      throw invalidArgument(`more than ${limits.maxFiles} files, the limit (links count as files)`, where);
    }
  };

  // The file being handed to onFile. tar-stream's entries are streamx streams: one destroyed before onFile starts
  // reading it (the input failed while onFile was still setting up) neither ends nor errors for node's own
  // pipeline, which then waits forever. So onFile gets a node stream fed from the entry, and a failure of the input
  // is put on it directly.
  let current: PassThrough | undefined;
  const feeding = pipeline(input, extract).catch((err) => {
    const failure = corruptTar(err);
    current?.destroy(failure);
    extract.destroy(failure);
  });

  try {
    for await (const entry of extract) {
      const header = entry.header;
      entries += 1;
      const where = `archive entry ${JSON.stringify(header.name)}`;
      position.entry = where;
      if (entries > maxEntries) throw invalidArgument(`more than ${maxEntries} entries (files, links and folders)`, where);
      const path = normalizeEntryPath(header.name, where);
      switch (header.type) {
        case 'directory':
          if (path) paths.add(path, 'directory', header.name, where);
          entry.resume();
          break;
        case 'file':
        case 'contiguous-file': {
          if (!path) throw invalidArgument('a file entry has an empty path', where);
          paths.add(path, 'file', header.name, where);
          countFile(where);
          const size = header.size ?? 0;
          if (size > limits.maxFileBytes) {
            throw invalidArgument(`the file is ${size} bytes, over the limit of ${limits.maxFileBytes} bytes per file`, where);
          }
          total += size;
          if (total > limits.maxTotalBytes) {
            throw invalidArgument(`the upload's files add up to ${total} bytes with this one, over the limit of ${limits.maxTotalBytes} bytes for the whole upload`, where);
          }
          const executable = ((header.mode ?? 0o644) & 0o111) !== 0;
          const file: ArchiveFile = { path, size, executable };
          files.push(file);
          current = new PassThrough();
          const content = current;
          // What this reader puts on the content is a KilnError, so anything else onFile throws is the caller's own.
          entry.on('error', (err: Error) => content.destroy(corruptTar(err)));
          entry.pipe(content);
          await options.onFile(file, content).catch((err: unknown) => {
            throw new CallerError(err);
          });
          current = undefined;
          break;
        }
        case 'link':
        case 'symlink': {
          if (!path) throw invalidArgument('a link entry has an empty path', where);
          paths.add(path, 'link', header.name, where);
          countFile(where);
          const target = resolveLinkTarget(path, header.linkname ?? '', header.type === 'link', where);
          links.push({ path, target, executable: ((header.mode ?? 0o644) & 0o111) !== 0 });
          entry.resume();
          break;
        }
        default:
          // tar-stream consumes pax and GNU long-name headers itself; whatever reaches here is a device or fifo.
          throw invalidArgument(`entries of type ${header.type} (devices, fifos) are not allowed`, where);
      }
      position.entry = undefined;
    }
  } catch (err) {
    input.destroy();
    extract.destroy();
    // onFile's failures (the blob store or the database down, a cancelled call) are not the archive's: they keep
    // their own code, and only the reader's own failures are the upload's fault.
    if (err instanceof CallerError) throw err.error;
    throw err instanceof KilnError ? err : invalidArgument(`cannot read the archive: ${(err as Error).message}`, 'archive');
  }
  await feeding;
  return { format, files, links: resolveLinks(links, files, paths, total, limits) };
}

/**
 * Links must end at a file of the archive (following chains); a link to a directory or nothing is rejected. Each
 * link becomes a copy of its target in the version, so the target's size counts toward the upload limit.
 */
function resolveLinks(links: ArchiveLink[], files: ArchiveFile[], paths: EntryPaths, filesTotal: number, limits: ArchiveLimits): ArchiveLink[] {
  const sizes = new Map(files.map((f) => [f.path, f.size]));
  const byPath = new Map(links.map((l) => [l.path, l]));
  let total = filesTotal;
  return links.map((link) => {
    const where = `archive entry ${JSON.stringify(link.path)}`;
    let target = link.target;
    for (let hops = 0; byPath.has(target); hops++) {
      if (hops > 40) throw invalidArgument('too many levels of links', where);
      target = byPath.get(target)!.target;
    }
    const size = sizes.get(target);
    if (size === undefined) {
      const what = paths.isFolder(target) ? 'a directory' : 'no file in the archive';
      throw invalidArgument(`link target ${target} is ${what}`, where);
    }
    total += size;
    if (total > limits.maxTotalBytes) {
      throw invalidArgument(
        `the link stands for a copy of ${target} (${size} bytes), bringing the upload to ${total} bytes, over the limit of ${limits.maxTotalBytes} bytes for the whole upload`,
        where,
      );
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

/** Passes bytes through, counting them, and fails with what `overLimit` returns for the count so far, if anything. */
export class ByteLimit extends Transform {
  private seen = 0;
  get bytes(): number {
    return this.seen;
  }
  constructor(private readonly overLimit: (bytes: number) => Error | undefined) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
    this.seen += chunk.length;
    const failure = this.overLimit(this.seen);
    if (failure) {
      callback(failure);
      return;
    }
    callback(null, chunk);
  }
}

/**
 * The input, failing unless it is exactly `expected` bytes long: a stream that ends early (a client that stopped or
 * was cancelled mid-upload, whose end can look like a normal one) must not become a truncated version.
 */
function checkLength(input: Readable, expected: number): Readable {
  let seen = 0;
  const where = 'header.expected_size';
  const checked = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      seen += chunk.length;
      if (seen > expected) callback(invalidArgument(`the upload is longer than the ${expected} bytes the header announced`, where));
      else callback(null, chunk);
    },
    flush(callback) {
      callback(seen === expected ? null : invalidArgument(`upload ended after ${seen} bytes; the header announced ${expected}`, where));
    },
  });
  // Failures show on `checked`, which the reader consumes; the pipeline only carries them there.
  pipeline(input, checked).catch(() => {});
  return checked;
}

/** A failure of the caller's onFile, carried out of the reader's loop untouched. */
class CallerError {
  constructor(readonly error: unknown) {}
}

function corruptTar(err: unknown): KilnError {
  if (err instanceof KilnError) return err;
  return invalidArgument(`the tar stream is corrupt: ${(err as Error).message}`, 'archive');
}

function wrapGzipError(err: unknown): Error {
  if (err instanceof KilnError) return err;
  return invalidArgument(`the gzip stream is corrupt: ${(err as Error).message}`, 'archive');
}
