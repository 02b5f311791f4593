// The blob store: bytes addressed by their sha256, behind one small interface with a local-disk and an S3 driver.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback, type Readable } from 'node:stream';
import { invalidArgument, KilnError, resourceExhausted } from '@kiln/errors';

/** A stored blob: its sha256 as 64 lowercase hex digits, and its length in bytes. */
export interface BlobInfo {
  digest: string;
  size: number;
}

export interface PutOptions {
  /** Aborting cancels the put: it rejects with CANCELLED and leaves nothing behind. */
  signal?: AbortSignal;
  /** A source longer than this is refused with RESOURCE_EXHAUSTED, and nothing is kept. */
  maxBytes?: number;
  /**
   * Called with each object the put is about to leave in the store until it ends (a temp file or data object,
   * then an open multipart upload's id), before any of its bytes are sent; the put waits for it and fails with its
   * error. A caller records them so that, should its process die mid-put, discardStaging can remove them by name:
   * a listing may never see them (a restarted MinIO lists no multipart upload it still holds).
   */
  onStaging?: (object: StagingObject) => Promise<void>;
}

/** What a put in progress leaves in the store: a temp file or data object by key, or an open multipart upload. */
export interface StagingObject {
  key: string;
  multipartUploadId?: string;
}

/** A byte range of a blob: `length` bytes from `offset`; it must lie within the blob. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** Bytes fully received and durable, but not yet visible under their digest (the first phase of a put). */
export interface StagedBlob extends BlobInfo {
  /** Makes the blob visible under its digest (keeping the one copy when it already is); ends the staging. */
  commit(): Promise<void>;
  /** Drops the staged bytes; ends the staging. */
  abort(): Promise<void>;
}

/**
 * Content-addressed storage. A put is invisible until it is complete: readers see a digest either not at all or
 * with all of its bytes, and a failed or cancelled put leaves no object and no temporary data behind.
 */
export interface BlobStore {
  /** Streams `source` in, hashing as it goes; storing bytes that are already there keeps the one copy. */
  put(source: Readable, options?: PutOptions): Promise<BlobInfo>;
  /**
   * The first phase of a put: the bytes are stored and their digest known, but nothing is visible until commit().
   * Lets a caller record a reference to the digest before the blob appears (so a concurrent collector that checks
   * references under the same lock never removes a blob a caller is about to use). Until commit or abort, the
   * staged bytes count as incomplete.
   */
  stage(source: Readable, options?: PutOptions): Promise<StagedBlob>;
  /** The blob's size, or null when the store does not have it. */
  stat(digest: string): Promise<{ size: number } | null>;
  /** The blob's bytes (or a range of them) as a stream; NOT_FOUND when absent. */
  read(digest: string, range?: ByteRange): Promise<Readable>;
  /** `length` bytes at `offset`, in memory: for parsers that seek (zip central directories, protobuf headers). */
  readRange(digest: string, offset: number, length: number): Promise<Buffer>;
  /** Removes the blob; removing an absent blob is not an error. */
  delete(digest: string): Promise<void>;
  /**
   * Removes what a put reported through onStaging (aborts the multipart upload, deletes the object), when that put
   * will never end by itself (its process died); removing what is gone already is not an error. Given the digest
   * the put staged, an object that became a committed blob is left alone: only blob collection removes blobs.
   */
  discardStaging(object: StagingObject, digest?: string): Promise<void>;
  /** Every stored blob, in no particular order. */
  list(): AsyncIterable<BlobInfo>;
  /** How many puts' leftovers (temporary files or objects, open multipart uploads) exist: in-flight puts count. */
  listIncomplete(): Promise<number>;
  /**
   * Removes leftovers older than `olderThanMs` (crash recovery at startup), or all of them for 0; returns how many
   * were removed. A put still in flight whose leftovers are removed fails.
   */
  cleanupIncomplete(olderThanMs: number): Promise<number>;
  /** Resolves once the store answers one cheap request (its health check); rejects, or is aborted, when it does not. */
  ping(signal?: AbortSignal): Promise<void>;
}

const DIGEST = /^[0-9a-f]{64}$/;

/** Throws INVALID_ARGUMENT unless `digest` is 64 lowercase hex digits (no `sha256:` prefix). */
export function checkDigest(digest: string): void {
  if (typeof digest !== 'string' || !DIGEST.test(digest)) {
    throw invalidArgument(`not a sha256 hex digest: ${JSON.stringify(digest)}`, 'digest');
  }
}

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

/** Throws INVALID_ARGUMENT unless the range is whole numbers lying within a blob of `size` bytes. */
export function checkRange(digest: string, range: ByteRange, size: number): void {
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw invalidArgument(`bad range offset=${offset} length=${length}`, `blob ${digest}`);
  }
  if (offset + length > size) {
    throw invalidArgument(`range ${offset}+${length} is past the end of the ${size}-byte blob`, `blob ${digest}`);
  }
}

export function checkMaxBytes(maxBytes: number | undefined): void {
  if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 0)) {
    throw invalidArgument(`maxBytes must be a whole number >= 0, got ${maxBytes}`, 'maxBytes');
  }
}

export function cancelled(what: string, cause?: unknown): KilnError {
  return new KilnError('CANCELLED', `${what} was cancelled`, undefined, { cause });
}

/** Passes bytes through while computing their sha256 and count; fails once more than `maxBytes` went by. */
export class DigestStream extends Transform {
  #hash = createHash('sha256');
  #size = 0;
  readonly #maxBytes: number;

  constructor(maxBytes = Number.POSITIVE_INFINITY) {
    super();
    this.#maxBytes = maxBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#size += chunk.length;
    if (this.#size > this.#maxBytes) {
      callback(resourceExhausted(`blob is larger than the limit of ${this.#maxBytes} bytes`, 'put'));
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  /** Valid once the stream has ended. */
  result(): BlobInfo {
    return { digest: this.#hash.digest('hex'), size: this.#size };
  }
}
