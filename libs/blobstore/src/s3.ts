// The S3 blob store (AWS, MinIO, any S3-compatible server): bytes at <prefix>data/<uuid>, made visible under their
// digest by an empty marker <prefix>blobs/sha256/<hex>/<size>-<uuid>, so that committing never copies the bytes.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type ChecksumAlgorithm,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware, InitializeMiddleware, MetadataBearer } from '@smithy/types';
import { asUnavailable, invalidArgument, isAbortError, KilnError, notFound } from '@kiln/errors';
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

const MiB = 1024 * 1024;

export interface S3BlobStoreOptions {
  bucket: string;
  /** Key prefix for everything this store writes (e.g. `kiln/`); a missing trailing slash is added. */
  prefix?: string;
  /** e.g. http://127.0.0.1:9000 for MinIO; omit for AWS. */
  endpoint?: string;
  region?: string;
  /** Path-style URLs (`endpoint/bucket/key`): needed by most self-hosted servers. */
  forcePathStyle?: boolean;
  /** Omit to use the SDK's chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * Bytes per multipart upload part (default 8 MiB, at least 5 MiB): a put holds about partSize × (queueSize + 1).
   * Parts grow by this much every 1,000 parts, so blobs up to 55,000 × partSize fit S3's 10,000 parts.
   */
  partSize?: number;
  /** Parts uploaded at once (default 4). */
  queueSize?: number;
  /** Parts of one size before they grow by partSize (default 1,000). */
  partsPerSizeStep?: number;
  /** Extra client settings (retries, request handler); the options above win. */
  clientConfig?: S3ClientConfig;
}

/**
 * Part and object uploads that carry a flexible checksum (x-amz-checksum-crc32: on by default, checked by the server)
 * are sent as UNSIGNED-PAYLOAD, so SigV4 does not hash every byte a second time; the server still rejects a corrupt
 * body by its checksum. The SDK does the same for streamed bodies (STREAMING-UNSIGNED-PAYLOAD-TRAILER) but signs
 * buffered ones, which over plain HTTP costs a sha256 of every part (~1.2 CPU s per GiB). Without a checksum (a
 * client configured with requestChecksumCalculation WHEN_REQUIRED) the payload stays signed.
 */
const UNSIGNED_FOR = new Set(['UploadPartCommand', 'PutObjectCommand']);
const unsignedChecksummedParts: FinalizeRequestMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
  const request = args.request as { headers?: Record<string, string> };
  if (UNSIGNED_FOR.has(context.commandName ?? '') && request.headers
    && Object.keys(request.headers).some((h) => h.toLowerCase().startsWith('x-amz-checksum-'))) {
    request.headers['x-amz-content-sha256'] ??= 'UNSIGNED-PAYLOAD';
  }
  return next(args);
};

/** Every request's failure, once the SDK's own retries are spent: an outage of the server (refused, reset, timed
 * out, 5xx, SlowDown) becomes UNAVAILABLE naming the bucket, so no caller reports it as INTERNAL or as the upload's
 * fault; any other error (a 404 the store looks for included) is left as the SDK made it. */
const unavailableOnOutage = (dependency: string): InitializeMiddleware<object, MetadataBearer> => (next) => async (args) => {
  try {
    return await next(args);
  } catch (err) {
    throw asUnavailable(err, dependency);
  }
};

/** Where a visible blob's bytes are. */
interface Location {
  dataKey: string;
  size: number;
}

/** A marker names the data object (`<size>-<uuid>` under the digest's folder); the size spares a HEAD in stat. */
const MARKER = /^(\d+)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Digests whose data key read() remembers: a stale entry costs one 404 and a fresh LIST, never wrong bytes. */
const LOCATION_CACHE_ENTRIES = 10_000;
/**
 * An upload's part buffers come from one allocation of at least this much. glibc maps anything over 32 MiB on its
 * own and unmaps it when freed; smaller buffers would go through its dynamic threshold, which rises to the size of
 * each mapped buffer freed, so that the next upload's parts land in the main heap, fragment it, and stay resident
 * after the upload. Pages of a mapping count only once written, so a small file costs no more.
 */
const PART_SLAB_BYTES = 33 * 1024 * 1024;

/**
 * Layout and why:
 * - A put streams into one multipart upload at `data/<uuid>`; the digest is known only at the end, so the bytes
 *   cannot go under it directly. commit() writes the empty marker `blobs/sha256/<hex>/<size>-<uuid>` instead of
 *   copying the bytes (a server-side copy costs as much as the upload again and needs a multipart copy past 5 GiB).
 *   The marker appears atomically, so a blob is invisible until commit and then whole.
 * - Incomplete = open multipart uploads under `data/` and data objects that no marker names.
 * - Concurrent commits of the same digest: each lists the digest's markers first and, when one exists, drops its own
 *   data (dedup). Two commits that both list before either writes leave two markers; each then lists again and the
 *   one whose marker is not the first removes its marker and data. Should both re-lists miss the other marker, two
 *   markers stay: their bytes are the same (same sha256), readers take the first, list() reports the digest once,
 *   and delete() removes every marker and its data. A reader that had picked the removed one sees a 404 and lists
 *   again.
 * - The multipart upload is driven here with the SDK's commands rather than lib-storage's `Upload` (which the
 *   upload benchmark uses as its reference): `Upload` allocates a buffer per part, signs each part's sha256 over
 *   plain HTTP (hashing every byte twice), and leaves aborting and listing leftovers to the caller; Kiln needs the
 *   part buffers from one reused slab (above), checksummed but unsigned parts, and every failure path to abort.
 * - Objects written by the earlier layout (the bytes at `blobs/sha256/<hex>`, temp data at `tmp/`) are still read,
 *   listed, deleted and cleaned up.
 */
export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #partsPerStep: number;
  readonly #locations = new Map<string, Location>();
  /**
   * The part buffers of a finished upload, kept for the next one: a new slab per upload would be written while the
   * last one's pages, garbage by then, stay resident until V8 next collects them fully.
   */
  #idleSlab: Buffer<ArrayBuffer> | undefined;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ? options.prefix.replace(/\/*$/, '/') : '';
    this.#partSize = Math.max(options.partSize ?? 8 * MiB, 5 * MiB);
    this.#queueSize = Math.max(options.queueSize ?? 4, 1);
    this.#partsPerStep = Math.max(options.partsPerSizeStep ?? 1000, 1);
    this.client = new S3Client({
      ...options.clientConfig,
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      ...(options.region !== undefined && { region: options.region }),
      ...(options.forcePathStyle !== undefined && { forcePathStyle: options.forcePathStyle }),
      ...(options.credentials !== undefined && { credentials: options.credentials }),
    });
    this.client.middlewareStack.addRelativeTo(unsignedChecksummedParts, {
      name: 'kilnUnsignedChecksummedParts',
      relation: 'before',
      toMiddleware: 'httpSigningMiddleware',
    });
    const where = options.endpoint ? `S3 bucket ${this.bucket} at ${options.endpoint}` : `S3 bucket ${this.bucket}`;
    this.client.middlewareStack.add(unavailableOnOutage(`the blob store (${where})`), {
      name: 'kilnUnavailableOnOutage',
      step: 'initialize',
      priority: 'high',
    });
  }

  /** Closes the client's connections. */
  destroy(): void {
    this.client.destroy();
  }

  get #blobPrefix(): string {
    return `${this.prefix}blobs/sha256/`;
  }

  get #dataPrefix(): string {
    return `${this.prefix}data/`;
  }

  /** Where the earlier layout staged its puts. */
  get #legacyTmpPrefix(): string {
    return `${this.prefix}tmp/`;
  }

  async put(source: Readable, options: PutOptions = {}): Promise<BlobInfo> {
    const staged = await this.stage(source, options);
    await staged.commit();
    return { digest: staged.digest, size: staged.size };
  }

  async stage(source: Readable, options: PutOptions = {}): Promise<StagedBlob> {
    checkMaxBytes(options.maxBytes);
    const { signal } = options;
    if (signal?.aborted) {
      source.destroy();
      throw cancelled('put', signal.reason);
    }
    const uuid = randomUUID();
    const dataKey = `${this.#dataPrefix}${uuid}`;
    try {
      await options.onStaging?.({ key: dataKey });
    } catch (err) {
      source.destroy();
      throw err;
    }
    const digester = new DigestStream(options.maxBytes);
    // Cancelling fails the body stream, so the upload stops reading, waits for its in-flight parts and aborts the
    // multipart upload before it rejects.
    const onAbort = () => digester.destroy(cancelled('put', signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    // Its failure shows on the digester too (pipeline destroys it with the source's error), and is read there.
    const feeding = pipeline(source, digester).catch(() => {});
    try {
      try {
        await this.#upload(digester, dataKey, options.onStaging);
      } catch (err) {
        // The source's error, the size limit or the cancellation, when that is what stopped the upload; not the
        // AbortError the upload's own loop left on the digester as it failed.
        const cause = digester.errored && !isAbortError(digester.errored) ? digester.errored : err;
        digester.destroy();
        await feeding;
        throw cause;
      }
      await feeding;
    } catch (err) {
      // Whatever happened, no data object or open multipart upload may outlive the put.
      digester.destroy();
      source.destroy();
      await this.#discard(dataKey);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const info = digester.result();
    let ended = false;
    return {
      ...info,
      commit: async () => {
        if (ended) return;
        ended = true;
        try {
          await this.#commit(info, uuid);
        } catch (err) {
          await this.#deleteKey(dataKey).catch(() => {});
          throw err;
        }
      },
      abort: async () => {
        if (ended) return;
        ended = true;
        await this.#deleteKey(dataKey).catch(() => {});
      },
    };
  }

  /**
   * Writes `body` to `key`: one PutObject when it fits in a part, else a multipart upload with up to queueSize parts
   * in flight. Parts are assembled in buffers reused from part to part, queueSize + 1 per upload carved from one slab
   * (see PART_SLAB_BYTES): fresh buffers per part made the copy page-fault and left the collector a part's worth of
   * garbage each time.
   * Parts grow by partSize every partsPerSizeStep parts, so memory stays small for common sizes while the
   * 10,000-part limit still allows 55,000 × partSize (430 GiB at 8 MiB). Checksums and signing stay the SDK's defaults.
   */
  async #upload(body: AsyncIterable<Buffer>, key: string, onStaging: PutOptions['onStaging']): Promise<void> {
    const partSizeOf = (number: number) => this.#partSize * (1 + Math.floor((number - 1) / this.#partsPerStep));
    const free: Buffer<ArrayBuffer>[] = [];
    let firstSlab: Buffer<ArrayBuffer> | undefined; // of the first step's parts, left for the next upload
    const take = (size: number) => {
      while (free.length > 0 && free[free.length - 1].length !== size) free.pop(); // left from a smaller step
      const reused = free.pop();
      if (reused) return reused;
      const count = Math.max(this.#queueSize + 1, Math.ceil(PART_SLAB_BYTES / size));
      let slab: Buffer<ArrayBuffer>;
      if (size === this.#partSize && this.#idleSlab) [slab, this.#idleSlab] = [this.#idleSlab, undefined];
      else slab = Buffer.allocUnsafeSlow(count * size);
      if (size === this.#partSize) firstSlab = slab;
      for (let i = 1; i < count; i++) free.push(slab.subarray(i * size, (i + 1) * size));
      return slab.subarray(0, size);
    };
    const inFlight = new Set<Promise<void>>();
    const parts: CompletedPart[] = [];
    let created: Promise<string> | undefined;
    let reported: Promise<string> | undefined;
    let failure: { error: unknown } | undefined;
    let part = take(partSizeOf(1));
    let filled = 0;
    let partNumber = 0;

    const uploadId = () =>
      (created ??= this.#checksumAlgorithm()
        .then((checksum) => this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ...checksum })))
        .then(({ UploadId }) => UploadId!));
    // No part goes out before the caller has the upload's id (should the process die, it aborts the upload by it).
    const reportedId = () =>
      (reported ??= uploadId().then(async (UploadId) => {
        await onStaging?.({ key, multipartUploadId: UploadId });
        return UploadId;
      }));
    const send = (buffer: Buffer<ArrayBuffer>, length: number, number: number) => {
      const sending = (async () => {
        const UploadId = await reportedId();
        const result = await this.client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId, PartNumber: number, Body: buffer.subarray(0, length) }),
        );
        parts.push({
          PartNumber: number,
          ETag: result.ETag,
          ...(result.ChecksumCRC32 && { ChecksumCRC32: result.ChecksumCRC32 }),
          ...(result.ChecksumCRC32C && { ChecksumCRC32C: result.ChecksumCRC32C }),
          ...(result.ChecksumCRC64NVME && { ChecksumCRC64NVME: result.ChecksumCRC64NVME }),
          ...(result.ChecksumSHA1 && { ChecksumSHA1: result.ChecksumSHA1 }),
          ...(result.ChecksumSHA256 && { ChecksumSHA256: result.ChecksumSHA256 }),
        });
        free.push(buffer); // the request is over: its bytes may be overwritten
      })()
        .catch((error) => void (failure ??= { error }))
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    };

    try {
      for await (const chunk of body) {
        for (let offset = 0; offset < chunk.length; ) {
          const copied = chunk.copy(part, filled, offset);
          filled += copied;
          offset += copied;
          if (filled < part.length) continue;
          while (inFlight.size >= this.#queueSize) await Promise.race(inFlight);
          if (failure) throw failure.error;
          send(part, filled, ++partNumber);
          part = take(partSizeOf(partNumber + 1));
          filled = 0;
        }
      }
      if (partNumber === 0) {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: part.subarray(0, filled), ContentLength: filled }),
        );
        return;
      }
      if (filled > 0) send(part, filled, ++partNumber);
      while (inFlight.size > 0) await Promise.race(inFlight);
      if (failure) throw failure.error;
      parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: await uploadId(),
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (err) {
      await Promise.allSettled(inFlight);
      if (created) {
        const UploadId = await created.catch(() => undefined);
        if (UploadId) {
          await this.client
            .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId }))
            .catch(() => {}); // #discard looks for it again
        }
      }
      throw err;
    } finally {
      // Every request that used the slab has settled (the catch above waits for those in flight).
      if (firstSlab && !this.#idleSlab) this.#idleSlab = firstSlab;
    }
  }

  /** What lib-storage asks for: with the SDK's default (WHEN_SUPPORTED) parts carry a CRC32 the server checks. */
  async #checksumAlgorithm(): Promise<{ ChecksumAlgorithm?: ChecksumAlgorithm }> {
    const when = await this.client.config.requestChecksumCalculation();
    return when === 'WHEN_SUPPORTED' ? { ChecksumAlgorithm: 'CRC32' } : {};
  }

  async #commit({ digest, size }: BlobInfo, uuid: string): Promise<void> {
    const dataKey = `${this.#dataPrefix}${uuid}`;
    const existing = await this.#list(digest);
    if (existing.length > 0) {
      // Already stored: keep the one copy.
      await this.#deleteKey(dataKey);
      this.#remember(digest, existing[0]);
      return;
    }
    const markerKey = `${this.#blobPrefix}${digest}/${size}-${uuid}`;
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: markerKey, Body: '', ContentLength: 0 }));
    try {
      // cleanupIncomplete may have removed the staged bytes (an unnamed data object) before the marker appeared:
      // then the put fails rather than leave a marker without bytes.
      if (!(await this.#exists(dataKey))) {
        throw new KilnError('FAILED_PRECONDITION', 'the staged bytes were removed before commit', `blob ${digest}`);
      }
      const now = await this.#list(digest);
      if (now[0] && now[0].dataKey !== dataKey) {
        // A concurrent commit of the same bytes got in first: leave the one copy (see the class comment).
        await this.#deleteKey(markerKey);
        await this.#deleteKey(dataKey);
        this.#remember(digest, now[0]);
        return;
      }
    } catch (err) {
      await this.#deleteKey(markerKey).catch(() => {});
      throw err;
    }
    this.#remember(digest, { dataKey, size });
  }

  /** Removes a failed put's data object and aborts any multipart upload still open on its key. */
  async #discard(dataKey: string): Promise<void> {
    await this.#deleteKey(dataKey).catch(() => {});
    try {
      for await (const upload of this.#multipartUploads(dataKey)) {
        if (upload.Key !== dataKey) continue;
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: dataKey, UploadId: upload.UploadId }))
          .catch(() => {});
      }
    } catch {
      // Best effort: cleanupIncomplete at the next start removes what is left.
    }
  }

  async discardStaging(object: StagingObject, digest?: string): Promise<void> {
    if (!object.key.startsWith(this.#dataPrefix)) {
      throw invalidArgument(`not a data key of this store: ${JSON.stringify(object.key)}`, 'key');
    }
    if (object.multipartUploadId) {
      try {
        await this.client.send(
          new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: object.key, UploadId: object.multipartUploadId }),
        );
      } catch (err) {
        if (!isMissing(err)) throw err; // completed (its object is discarded on its own) or aborted already
      }
      return;
    }
    if (digest) {
      checkDigest(digest);
      // Committed: a marker names the object, which is now the blob's bytes.
      if ((await this.#list(digest)).some((l) => l.dataKey === object.key)) return;
    }
    await this.#deleteKey(object.key);
    if (digest) {
      // A commit whose marker appeared after the look above lost its bytes: its marker goes too (as in cleanup).
      for (const l of await this.#list(digest)) if (l.dataKey === object.key) await this.#deleteKey(l.markerKey);
      this.#locations.delete(digest);
    }
  }

  /** When the multipart upload last stored a part (0 without parts, or when it is gone). */
  async #lastPartTime(Key: string, UploadId: string): Promise<number> {
    let latest = 0;
    let PartNumberMarker: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListPartsCommand({ Bucket: this.bucket, Key, UploadId, PartNumberMarker }));
        for (const part of page.Parts ?? []) latest = Math.max(latest, part.LastModified?.getTime() ?? 0);
        PartNumberMarker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (PartNumberMarker);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    return latest;
  }

  async #deleteKey(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async #exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  /**
   * Every location of `digest`, first the one readers use: markers in key order, or the earlier layout's object
   * (whose key sorts before them). One LIST; empty when the blob is absent.
   */
  async #list(digest: string): Promise<Array<Location & { markerKey: string }>> {
    const key = `${this.#blobPrefix}${digest}`;
    const found: Array<Location & { markerKey: string }> = [];
    for await (const object of this.#objects(key)) {
      const location = this.#parseBlobKey(object.Key!, object.Size);
      if (location?.digest === digest) found.push({ dataKey: location.dataKey, size: location.size, markerKey: object.Key! });
    }
    return found;
  }

  /** The digest and data location a key under blobs/sha256/ stands for, or null for a key that is neither. */
  #parseBlobKey(key: string, objectSize: number | undefined): (Location & { digest: string }) | null {
    const rest = key.slice(this.#blobPrefix.length);
    const digest = rest.slice(0, 64);
    if (!isDigest(digest)) return null;
    if (rest.length === 64) return { digest, dataKey: key, size: objectSize ?? 0 };
    const marker = rest[64] === '/' ? MARKER.exec(rest.slice(65)) : null;
    if (!marker) return null;
    return { digest, dataKey: `${this.#dataPrefix}${marker[2]}`, size: Number(marker[1]) };
  }

  async #locate(digest: string, fresh: boolean): Promise<Location | null> {
    if (!fresh) {
      const cached = this.#locations.get(digest);
      if (cached) return cached;
    }
    const [first] = await this.#list(digest);
    if (!first) {
      this.#locations.delete(digest);
      return null;
    }
    const location = { dataKey: first.dataKey, size: first.size };
    this.#remember(digest, location);
    return location;
  }

  #remember(digest: string, location: Location): void {
    this.#locations.delete(digest);
    this.#locations.set(digest, { dataKey: location.dataKey, size: location.size });
    if (this.#locations.size > LOCATION_CACHE_ENTRIES) {
      this.#locations.delete(this.#locations.keys().next().value!);
    }
  }

  async stat(digest: string): Promise<{ size: number } | null> {
    checkDigest(digest);
    // Always listed: an existence check must not trust a cache another process's delete can make stale.
    const location = await this.#locate(digest, true);
    return location && { size: location.size };
  }

  async read(digest: string, range?: ByteRange): Promise<Readable> {
    checkDigest(digest);
    if (range) checkRange(digest, range, Number.MAX_SAFE_INTEGER);
    // A zero-length range is answered from a fresh listing (HTTP cannot ask for zero bytes).
    let fresh = range?.length === 0;
    let location = await this.#locate(digest, fresh);
    for (;;) {
      if (!location) throw notFound('no such blob', `blob ${digest}`);
      if (range && !fresh && range.offset + range.length > location.size) {
        // Refused only on a fresh look: the remembered blob may have been deleted (NOT_FOUND, then).
        location = await this.#locate(digest, (fresh = true));
        continue;
      }
      if (range) checkRange(digest, range, location.size);
      if (range?.length === 0) return Readable.from([]);
      try {
        const response = await this.client.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: location.dataKey,
            ...(range && { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` }),
          }),
        );
        return response.Body as Readable;
      } catch (err) {
        if (!isMissing(err)) throw err;
        if (fresh) throw notFound('no such blob', `blob ${digest}`);
        // Deleted, or deduplicated to another copy, since it was remembered: look again once.
        location = await this.#locate(digest, (fresh = true));
      }
    }
  }

  async readRange(digest: string, offset: number, length: number): Promise<Buffer> {
    const stream = await this.read(digest, { offset, length });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const buffer = Buffer.concat(chunks);
    if (buffer.length !== length) throw new Error(`blob ${digest}: got ${buffer.length} bytes of ${length}`);
    return buffer;
  }

  async delete(digest: string): Promise<void> {
    checkDigest(digest);
    this.#locations.delete(digest);
    const locations = await this.#list(digest);
    // Markers first: the blob disappears at once; data left by a crash in between is incomplete and cleaned up.
    for (const { markerKey, dataKey } of locations) if (markerKey !== dataKey) await this.#deleteKey(markerKey);
    for (const { dataKey } of locations) await this.#deleteKey(dataKey);
    this.#locations.delete(digest);
  }

  async *list(): AsyncIterable<BlobInfo> {
    let last = '';
    for await (const object of this.#objects(this.#blobPrefix)) {
      const location = this.#parseBlobKey(object.Key!, object.Size);
      // Keys come sorted, so a digest's markers are adjacent.
      if (!location || location.digest === last) continue;
      last = location.digest;
      yield { digest: location.digest, size: location.size };
    }
  }

  /** Data objects that no marker names (staged, or left by a crash); listed before the markers, see cleanup. */
  async #unnamedData(): Promise<Array<{ key: string; lastModified: number }>> {
    const data: Array<{ key: string; lastModified: number }> = [];
    for await (const object of this.#objects(this.#dataPrefix)) {
      data.push({ key: object.Key!, lastModified: object.LastModified?.getTime() ?? 0 });
    }
    const named = await this.#namedDataKeys();
    return data.filter(({ key }) => !named.has(key));
  }

  async #namedDataKeys(): Promise<Set<string>> {
    const named = new Set<string>();
    for await (const object of this.#objects(this.#blobPrefix)) {
      const location = this.#parseBlobKey(object.Key!, object.Size);
      if (location) named.add(location.dataKey);
    }
    return named;
  }

  async listIncomplete(): Promise<number> {
    let count = (await this.#unnamedData()).length;
    for await (const _ of this.#objects(this.#legacyTmpPrefix)) count++;
    for (const prefix of [this.#dataPrefix, this.#legacyTmpPrefix]) {
      for await (const _ of this.#multipartUploads(prefix)) count++;
    }
    return count;
  }

  async cleanupIncomplete(olderThanMs: number): Promise<number> {
    // 0 means all, whatever the server's clock says the leftovers' times are.
    const kept = (time: number) => olderThanMs > 0 && time > Date.now() - olderThanMs;
    let removed = 0;
    const removedData = new Set<string>();
    for (const { key, lastModified } of await this.#unnamedData()) {
      if (kept(lastModified)) continue;
      await this.#deleteKey(key);
      removedData.add(key);
      removed++;
    }
    if (removedData.size > 0) {
      // A commit whose marker appeared after the listing above lost its bytes: drop its marker too, so no blob is
      // visible without them (that commit fails on its own check, or its blob reads as absent).
      for await (const object of this.#objects(this.#blobPrefix)) {
        const location = this.#parseBlobKey(object.Key!, object.Size);
        if (location && removedData.has(location.dataKey)) await this.#deleteKey(object.Key!);
      }
      this.#locations.clear();
    }
    for await (const object of this.#objects(this.#legacyTmpPrefix)) {
      if (kept(object.LastModified?.getTime() ?? 0)) continue;
      await this.#deleteKey(object.Key!);
      removed++;
    }
    for (const prefix of [this.#dataPrefix, this.#legacyTmpPrefix]) {
      for await (const upload of this.#multipartUploads(prefix)) {
        if (kept(upload.Initiated?.getTime() ?? 0)) continue;
        // Begun long ago, but still sending parts: a long upload alive in some registry, not a leftover.
        if (olderThanMs > 0 && kept(await this.#lastPartTime(upload.Key!, upload.UploadId!))) continue;
        try {
          await this.client.send(
            new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }),
          );
          removed++;
        } catch (err) {
          if (!isMissing(err)) throw err; // finished or aborted meanwhile
        }
      }
    }
    return removed;
  }

  async ping(signal?: AbortSignal): Promise<void> {
    // A one-key listing of the store's own prefix: what its credentials may surely do (a HeadBucket may be denied to
    // a key scoped to a prefix), and as cheap as any request.
    await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.#blobPrefix, MaxKeys: 1 }), { abortSignal: signal });
  }

  async *#objects(prefix: string) {
    let ContinuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken }),
      );
      yield* page.Contents ?? [];
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  /**
   * Open multipart uploads whose key starts with `prefix`. MinIO takes a Prefix only as an exact key, so a prefix
   * that is not one is matched here, over the bucket's whole (usually short) list of open uploads.
   */
  async *#multipartUploads(prefix: string) {
    const exactKey = !prefix.endsWith('/');
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          ...(exactKey && { Prefix: prefix }),
          KeyMarker,
          UploadIdMarker,
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key?.startsWith(prefix)) yield upload;
      }
      if (!page.IsTruncated) break;
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
    } while (KeyMarker);
  }
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isMissing(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchUpload' || httpStatus(err) === 404;
}
