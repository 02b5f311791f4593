// Sink: a registry repository. HEAD before push, cross-repository mounts, chunked uploads streamed from the layer,
// stream layers uploaded while hashed, manifest PUT by tag once every blob is confirmed, and tags moved to a stored
// manifest by a PUT of its own bytes (requests: distribution.ts).
import type { Readable } from 'node:stream';
import { KilnError } from '@kiln/errors';
import { chunks } from '../chunks';
import { assertDigest, sha256Digest } from '../digest';
import { DistributionRepository } from '../registry/distribution';
import { checkTag } from '../registry/reference';
import { uploadStreamLayer } from '../registry/stream-upload';
import { RegistryError, RegistryTransport, type RegistryOptions } from '../registry/transport';
import type { StreamLayer } from '../stream-layer';
import { MediaType, type Blob, type Image, type ImageSink, type Layer, type TagResult, type UntagResult, type WriteResult } from '../types';
import { forEachConcurrently } from '@kiln/std';

export interface RegistrySinkOptions extends RegistryOptions {
  repository: string;
  /** Other repositories of the same registry that may hold our blobs (earlier versions): tried as mount sources. */
  mountFrom?: string[];
  /** Blobs up to this size go in one PUT; bigger ones in PATCH chunks of chunkSize. Default 8 MiB each. */
  monolithicMaxSize?: number;
  chunkSize?: number;
  /** Blobs pushed at once. Default 3. */
  concurrency?: number;
  /** Reuse a transport (and its tokens) across sinks of the same registry. */
  transport?: RegistryTransport;
}

const MiB = 1024 * 1024;
const MANIFEST_ATTEMPTS = 3;

/**
 * Blobs being made present in a repository, per transport (one per registry in a builder process). Distribution
 * rewrites a repository's link to a blob on every commit or mount of it (truncating the file, then writing it), and
 * a manifest PUT or blob HEAD reading the link meanwhile finds no blob (MANIFEST_BLOB_UNKNOWN, or a 500). So two
 * sinks never write one blob to one repository at once: the second waits for the first's confirmed outcome. (A
 * stream layer's digest is known only at its commit, so its upload waits for no one: callers push one stream of a
 * layer at a time, as the builder does per cache key, and write()'s confirm-and-retry covers the rest.)
 */
const inFlight = new WeakMap<RegistryTransport, Map<string, Promise<BlobOutcome>>>();

/** What pushing one layer took: there already, mounted from another repository, or its bytes sent. */
export type BlobOutcome = 'existing' | 'mounted' | 'uploaded';

export interface RegistrySink extends ImageSink {
  readonly transport: RegistryTransport;
  readonly repository: string;
  /**
   * Makes one layer present in the repository ahead of an image naming it. A Layer goes as write() sends it (HEAD,
   * mount, upload); a StreamLayer not yet computed is uploaded while hashed, in one streamed PATCH when the registry's
   * auth allows it, and is computed when this resolves. Either way the registry has confirmed the blob.
   */
  pushLayer(layer: Layer | StreamLayer): Promise<{ layer: Layer; outcome: BlobOutcome }>;
}

const MANIFEST_ACCEPT = [MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST, MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST].join(', ');
const MANIFEST_TYPES: readonly string[] = [MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST, MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST];

/** Why a registry keeps a deleted alias's tag (UntagResult.detail). */
export const REGISTRY_KEEPS_TAGS = 'the Distribution API deletes manifests by digest only, which would delete the image the tag names: '
  + 'the tag stays in the registry, naming the image it named last';

export function registrySink(options: RegistrySinkOptions): RegistrySink {
  const transport = options.transport ?? new RegistryTransport(options);
  const repo = new DistributionRepository(transport, options.repository, 'pull,push');
  const repository = repo.name;
  const monolithicMaxSize = options.monolithicMaxSize ?? 8 * MiB;
  const chunkSize = options.chunkSize ?? 8 * MiB;
  // A manifest HEAD asks only to read: a user who may pull learns what is there.
  const reader = new DistributionRepository(transport, repository, 'pull');

  /** Mounts the blob from another repository; returns true when mounted, or an upload URL to use instead. */
  async function mountOrStart(blob: Blob): Promise<true | string> {
    const candidates = [
      ...(blob.origin && blob.origin.registry === transport.registry ? [blob.origin.repository] : []),
      ...(options.mountFrom ?? []),
    ].filter((r, i, all) => r !== repository && all.indexOf(r) === i);
    for (const from of candidates) {
      const mounted = await repo.mountBlob(blob.digest, from);
      if (mounted === true) return true;
      // Not mountable from there; the registry opened an upload. Close it by trying the next candidate, or use it.
      if (candidates.at(-1) === from) return mounted;
      await repo.cancelUpload(mounted, blob.digest);
    }
    return repo.startUpload(blob.digest);
  }

  /** Uploads the blob; `session.url` always holds the upload's latest Location (needed to cancel it). */
  async function upload(blob: Blob, session: { url: string }): Promise<void> {
    const stream = blob.open();
    try {
      if (blob.size <= monolithicMaxSize) return await repo.commitUpload(session.url, blob.digest, await readAll(stream, blob.size));
      let offset = 0;
      for await (const chunk of chunks(stream, chunkSize)) {
        session.url = await repo.appendChunk(session.url, chunk, offset, blob.digest);
        offset += chunk.length;
      }
      if (offset !== blob.size) {
        throw new KilnError('FAILED_PRECONDITION', `blob streamed ${offset} bytes, expected ${blob.size}`, repo.where(blob.digest));
      }
      await repo.commitUpload(session.url, blob.digest);
    } finally {
      stream.destroy();
    }
  }

  /** Makes the blob present in the repository: there already, mounted, or uploaded; confirmed by the registry. */
  async function ensure(blob: Blob): Promise<BlobOutcome> {
    if (await repo.hasBlob(blob.digest)) return 'existing';
    const mounted = await mountOrStart(blob);
    if (mounted === true) return 'mounted';
    const session = { url: mounted };
    try {
      await upload(blob, session);
    } catch (err) {
      // Cancel the upload session so a failed push leaves nothing behind in the registry.
      await repo.cancelUpload(session.url, blob.digest);
      throw err;
    }
    return 'uploaded';
  }

  /** ensure(), once at a time per blob and repository in this process: a sink finding another one at it waits for
   * its outcome (the blob is then there for both: 'existing' for the one that waited). */
  function ensureOnce(blob: Blob): Promise<BlobOutcome> {
    let flights = inFlight.get(transport);
    if (!flights) inFlight.set(transport, (flights = new Map()));
    const key = `${repository}@${blob.digest}`;
    const running = flights.get(key);
    // Another sink's failure (its build cancelled, its stream broken) is not this one's: it then tries itself.
    if (running) return running.then(() => 'existing' as const, () => ensureOnce(blob));
    const flight = ensure(blob).finally(() => flights.delete(key));
    flights.set(key, flight);
    return flight;
  }

  async function putManifest(image: Image, tag: string): Promise<void> {
    const returned = await repo.putManifest(tag, image.rawManifest, image.mediaType);
    if (returned && returned !== image.digest) {
      throw new KilnError('INTERNAL', `registry stored manifest as ${returned}, expected ${image.digest}`, repo.where(tag));
    }
  }

  /**
   * PUTs the manifest `digest` under `tag`: its exact bytes and media type as the registry serves them by digest, so
   * the registry stores the same digest (no blob moves: they are the repository's already).
   */
  async function retag(tag: string, digest: string): Promise<void> {
    const where = repo.where(digest);
    const stored = await repo.getManifest(digest, MANIFEST_ACCEPT, { missingOk: true, location: where });
    if (!stored) throw new KilnError('FAILED_PRECONDITION', `manifest ${digest} is not in the repository: the image was never pushed there, or was deleted`, where);
    if (sha256Digest(stored.raw) !== digest) throw new KilnError('FAILED_PRECONDITION', `the registry served other bytes for manifest ${digest}`, where);
    const mediaType = MANIFEST_TYPES.includes(stored.contentType) ? stored.contentType : manifestMediaType(stored.raw, where);
    for (let attempt = 1; ; attempt++) {
      try {
        const returned = await repo.putManifest(tag, stored.raw, mediaType);
        if (returned && returned !== digest) throw new KilnError('INTERNAL', `registry stored manifest as ${returned}, expected ${digest}`, repo.where(tag));
        return;
      } catch (err) {
        // A link being rewritten meanwhile (a build of another version pushing a blob): asked again, briefly.
        const blobUnknown = err instanceof RegistryError && err.errors.some((e) => e.code === 'MANIFEST_BLOB_UNKNOWN');
        if (!blobUnknown || attempt === MANIFEST_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  return {
    transport,
    repository,
    digestOf: async (tag) => reader.manifestDigest(checkTag(tag), MANIFEST_ACCEPT),
    async tag(tag: string, digest: string): Promise<TagResult> {
      checkTag(tag);
      assertDigest(digest, 'digest');
      // Already there (a retry, or the same alias moved twice): nothing to write.
      if ((await reader.manifestDigest(tag, MANIFEST_ACCEPT)) === digest) return { digest, changed: false };
      await retag(tag, digest);
      return { digest, changed: true };
    },
    async untag(tag: string): Promise<UntagResult> {
      checkTag(tag);
      return { removed: false, detail: REGISTRY_KEEPS_TAGS };
    },
    async pushLayer(layer) {
      if (isStreamLayer(layer) && !layer.computed) {
        await uploadStreamLayer(transport, repo, layer, { chunkSize });
        return { layer: layer.toLayer(), outcome: 'uploaded' };
      }
      const known = isStreamLayer(layer) ? layer.toLayer() : layer;
      return { layer: known, outcome: await ensureOnce(known) };
    },
    async write(image: Image, tag: string): Promise<WriteResult> {
      checkTag(tag);
      const result: WriteResult = { digest: image.digest, uploaded: [], existing: [], mounted: [] };
      const unique = new Map<string, Blob>();
      for (const blob of [...image.layers, image.configBlob]) unique.set(blob.digest, blob);
      const record = (blob: Blob, outcome: BlobOutcome) => {
        // Confirmed again after a refused manifest: only what was sent or mounted this time is news.
        const seen = result.uploaded.includes(blob.digest) || result.mounted.includes(blob.digest) || result.existing.includes(blob.digest);
        if (seen && outcome === 'existing') return;
        if (!result[outcome].includes(blob.digest)) result[outcome].push(blob.digest);
      };
      const ensureAll = () => forEachConcurrently([...unique.values()], options.concurrency ?? 3, async (blob) => record(blob, await ensureOnce(blob)));

      // The manifest goes only once every blob it names is confirmed in this repository (HEAD 200, mount or upload
      // 201). A registry may still answer MANIFEST_BLOB_UNKNOWN while another process (a second builder) rewrites
      // one of those blobs' links: every blob is then confirmed again (and pushed again if it really is gone).
      await ensureAll();
      for (let attempt = 1; ; attempt++) {
        try {
          await putManifest(image, tag);
          return result;
        } catch (err) {
          const blobUnknown = err instanceof RegistryError && err.errors.some((e) => e.code === 'MANIFEST_BLOB_UNKNOWN');
          if (!blobUnknown || attempt === MANIFEST_ATTEMPTS) throw err;
          await ensureAll();
        }
      }
    },
  };
}

async function readAll(stream: Readable, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    parts.push(c as Buffer);
    n += (c as Buffer).length;
    if (n > size) break;
  }
  return Buffer.concat(parts);
}

/** The media type a manifest names itself, for a registry that serves it with no usable Content-Type. */
function manifestMediaType(raw: Buffer, where: string): string {
  try {
    const { mediaType } = JSON.parse(raw.toString('utf8')) as { mediaType?: unknown };
    if (typeof mediaType === 'string' && MANIFEST_TYPES.includes(mediaType)) return mediaType;
  } catch {
    // not JSON: refused below
  }
  throw new KilnError('FAILED_PRECONDITION', 'the manifest names no media type Kiln can tag, and the registry served none', where);
}

function isStreamLayer(layer: Layer | StreamLayer): layer is StreamLayer {
  return typeof (layer as StreamLayer).digests === 'function';
}
