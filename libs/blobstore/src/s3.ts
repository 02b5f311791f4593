// The S3 blob store (AWS, MinIO, any S3-compatible server): <prefix>blobs/sha256/<hex>, written via <prefix>tmp/<uuid>.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
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
} from './index';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

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
  /** Bytes per multipart upload part (default 8 MiB, at least 5 MiB): memory use is about partSize × queueSize. */
  partSize?: number;
  /** Parts uploaded at once (default 4). */
  queueSize?: number;
  /** Blobs larger than this are moved from their temp key with a multipart copy (default 5 GiB, S3's CopyObject limit). */
  multipartCopyThreshold?: number;
  /** Bytes per part of a multipart copy (default 1 GiB, at least 5 MiB). */
  multipartCopyPartSize?: number;
  /** Extra client settings (retries, request handler); the options above win. */
  clientConfig?: S3ClientConfig;
}

export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #copyThreshold: number;
  readonly #copyPartSize: number;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ? options.prefix.replace(/\/*$/, '/') : '';
    this.#partSize = Math.max(options.partSize ?? 8 * MiB, 5 * MiB);
    this.#queueSize = options.queueSize ?? 4;
    this.#copyThreshold = Math.min(options.multipartCopyThreshold ?? 5 * GiB, 5 * GiB);
    this.#copyPartSize = Math.max(options.multipartCopyPartSize ?? GiB, 5 * MiB);
    this.client = new S3Client({
      ...options.clientConfig,
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      ...(options.region !== undefined && { region: options.region }),
      ...(options.forcePathStyle !== undefined && { forcePathStyle: options.forcePathStyle }),
      ...(options.credentials !== undefined && { credentials: options.credentials }),
    });
  }

  /** Closes the client's connections. */
  destroy(): void {
    this.client.destroy();
  }

  #blobKey(digest: string): string {
    return `${this.prefix}blobs/sha256/${digest}`;
  }

  get #tmpPrefix(): string {
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
    const tmpKey = `${this.#tmpPrefix}${randomUUID()}`;
    const digester = new DigestStream(options.maxBytes);
    // Cancelling fails the body stream, so the Upload stops reading, waits for its in-flight parts and aborts the
    // multipart upload before done() rejects (Upload.abort() would reject at once and clean up in the background).
    const onAbort = () => digester.destroy(cancelled('put', signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    // Its failure shows on the digester too (pipeline destroys it with the source's error), and is read there.
    const feeding = pipeline(source, digester).catch(() => {});
    try {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: tmpKey, Body: digester },
        partSize: this.#partSize,
        queueSize: this.#queueSize,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (err) {
        // The source's error, the size limit or the cancellation, when that is what stopped the upload.
        const cause = digester.errored ?? err;
        digester.destroy();
        await feeding;
        throw cause;
      }
      await feeding;
    } catch (err) {
      // Whatever happened, no temp object or open multipart upload may outlive the put.
      digester.destroy();
      source.destroy();
      await this.#discard(tmpKey);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const info = digester.result();
    return {
      ...info,
      commit: async () => {
        try {
          if (!(await this.stat(info.digest))) await this.#move(tmpKey, this.#blobKey(info.digest), info.size);
        } finally {
          await this.#deleteKey(tmpKey).catch(() => {});
        }
      },
      abort: () => this.#deleteKey(tmpKey).catch(() => {}),
    };
  }

  /** Copies `from` to `to` (which becomes visible only when complete); single CopyObject up to 5 GiB. */
  async #move(from: string, to: string, size: number): Promise<void> {
    const copySource = `${this.bucket}/${encodeKey(from)}`;
    if (size <= this.#copyThreshold) {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: copySource }));
      return;
    }
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: to }));
    try {
      const parts: CompletedPart[] = [];
      for (let offset = 0, n = 1; offset < size; offset += this.#copyPartSize, n++) {
        const end = Math.min(offset + this.#copyPartSize, size) - 1;
        const { CopyPartResult } = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: to,
            UploadId,
            PartNumber: n,
            CopySource: copySource,
            CopySourceRange: `bytes=${offset}-${end}`,
          }),
        );
        parts.push({ PartNumber: n, ETag: CopyPartResult?.ETag });
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId, MultipartUpload: { Parts: parts } }),
      );
    } catch (err) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId }))
        .catch(() => {});
      throw err;
    }
  }

  /** Removes a failed put's temp object and aborts any multipart upload still open on its key. */
  async #discard(tmpKey: string): Promise<void> {
    await this.#deleteKey(tmpKey).catch(() => {});
    try {
      for await (const upload of this.#multipartUploads(tmpKey)) {
        if (upload.Key !== tmpKey) continue;
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: tmpKey, UploadId: upload.UploadId }))
          .catch(() => {});
      }
    } catch {
      // Best effort: cleanupIncomplete at the next start removes what is left.
    }
  }

  async #deleteKey(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async stat(digest: string): Promise<{ size: number } | null> {
    checkDigest(digest);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.#blobKey(digest) }));
      return { size: head.ContentLength ?? 0 };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async read(digest: string, range?: ByteRange): Promise<Readable> {
    checkDigest(digest);
    if (range && range.length === 0) {
      // HTTP cannot ask for zero bytes: check the offset against the size and answer with an empty stream.
      const found = await this.stat(digest);
      if (!found) throw notFound('no such blob', `blob ${digest}`);
      checkRange(digest, range, found.size);
      return Readable.from([]);
    }
    if (range) checkRange(digest, range, Number.MAX_SAFE_INTEGER);
    let body: Readable;
    let contentRange: string | undefined;
    try {
      const response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.#blobKey(digest),
          ...(range && { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` }),
        }),
      );
      body = response.Body as Readable;
      contentRange = response.ContentRange;
    } catch (err) {
      if (isMissing(err)) throw notFound('no such blob', `blob ${digest}`);
      if (range && httpStatus(err) === 416) {
        // The offset is at or past the end: report it as for every other store.
        const found = await this.stat(digest);
        if (!found) throw notFound('no such blob', `blob ${digest}`);
        checkRange(digest, range, found.size);
      }
      throw err;
    }
    if (range) {
      // S3 shortens a range that runs past the end; the total size is in Content-Range (`bytes a-b/size`).
      const size = Number(contentRange?.split('/')[1]);
      try {
        if (!Number.isFinite(size)) throw invalidArgument(`no Content-Range in the response`, `blob ${digest}`);
        checkRange(digest, range, size);
      } catch (err) {
        body.destroy();
        throw err;
      }
    }
    return body;
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
    await this.#deleteKey(this.#blobKey(digest));
  }

  async *list(): AsyncIterable<BlobInfo> {
    const prefix = `${this.prefix}blobs/sha256/`;
    for await (const object of this.#objects(prefix)) {
      const digest = object.Key!.slice(prefix.length);
      if (isDigest(digest)) yield { digest, size: object.Size ?? 0 };
    }
  }

  async listIncomplete(): Promise<number> {
    let count = 0;
    for await (const _ of this.#objects(this.#tmpPrefix)) count++;
    for await (const _ of this.#multipartUploads(this.#tmpPrefix)) count++;
    return count;
  }

  async cleanupIncomplete(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for await (const object of this.#objects(this.#tmpPrefix)) {
      if ((object.LastModified?.getTime() ?? 0) > cutoff) continue;
      await this.#deleteKey(object.Key!);
      removed++;
    }
    for await (const upload of this.#multipartUploads(this.#tmpPrefix)) {
      if ((upload.Initiated?.getTime() ?? 0) > cutoff) continue;
      try {
        await this.client.send(
          new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }),
        );
        removed++;
      } catch (err) {
        if (!isMissing(err)) throw err; // finished or aborted meanwhile
      }
    }
    return removed;
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

/** CopySource is a URL path: each key segment is percent-encoded, the slashes kept. */
function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
