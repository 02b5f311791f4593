// The daemonless build: plan -> layers -> sink. A version's files streamed from the blob store into reproducible
// layers under /model, on the runtime image pulled from its registry (or on nothing: a scratch "modelcar"), written
// to the target's sink.
import { addAbortSignal, PassThrough, type Readable } from 'node:stream';
import type { BlobStore } from '@kiln/blobstore';
import { KilnError } from '@kiln/errors';
import {
  buildModelImage,
  canonicalJson,
  DEFAULT_LARGE_FILE_THRESHOLD,
  EXEC_MODE,
  FILE_MODE,
  layerCacheKey,
  parseReference,
  pullImage,
  registryLayerIndex,
  reproducibleTar,
  streamLayer,
  tarSize,
  type Image,
  type LayerCache,
  type LayerDigests,
  type ModelFile,
  type RegistrySink,
  type TarFile,
} from '@kiln/oci';
import type { BuildLog } from './build-log';
import { forEachConcurrently, formatBytes } from '@kiln/std';
import { BASE_DIGEST_LABEL, CONTRACT_FILE, type BuildPlan } from './plan';
import { imageDestination, type Transports } from './targets';

/** How far reading a file from the blob store may run ahead of the layer being hashed or pushed. */
export const READ_AHEAD_BYTES = 32 * 1024 * 1024;
/** The size of the chunks blob stores stream (about: S3 responses arrive in ~64 KiB pieces, files in 64 KiB reads). */
const READ_CHUNK_BYTES = 64 * 1024;

export interface DaemonlessDeps {
  blobs: BlobStore;
  transports: Transports;
  layerCache?: LayerCache;
  /** Files larger than this get a layer of their own (default: @kiln/oci's 16 MiB). */
  largeFileThreshold?: number;
}

export interface BuiltImage {
  imageReference: string;
  imageDigest: string;
}

export async function buildDaemonless(plan: BuildPlan, deps: DaemonlessDeps, log: BuildLog, signal: AbortSignal): Promise<BuiltImage> {
  const base = plan.base ? await pullBase(plan.base, deps.transports, log) : undefined;
  if (!base) log.line('base: none (a model-only image)');
  signal.throwIfAborted();

  const files = modelFiles(plan, deps.blobs, signal);
  const destination = imageDestination(plan.target, deps.transports);
  if (destination.registry) await pushUncachedLargeLayers(plan, files, destination.registry, deps, log, signal);
  const started = Date.now();
  const { image, modelLayers } = await buildModelImage(files, {
    name: plan.model,
    version: plan.version,
    contract: plan.contract ?? undefined,
    // The base's manifest digest: the same tag moved to another image gives another image (and says which).
    labels: base ? { ...plan.labels, [BASE_DIGEST_LABEL]: base.digest } : plan.labels,
    base,
    layerCache: deps.layerCache,
    largeFileThreshold: deps.largeFileThreshold,
    extraFiles: plan.writeContractFile ? [{ path: CONTRACT_FILE, content: `${canonicalJson(plan.contract)}\n` }] : [],
  });
  if (!plan.writeContractFile && plan.contract != null) log.line(`the model has its own /model/${CONTRACT_FILE}: kept, and the contract is only in the image's labels`);
  for (const l of modelLayers) {
    const what = l.kind === 'large-file' ? `/${l.files[0]}` : `${l.kind} (${l.files.length} files)`;
    log.line(`layer ${l.digest} ${formatBytes(l.size)} ${what}${l.cached ? ' (digest cached, not read)' : ''}`);
  }
  log.line(`image ${image.digest}: ${image.layers.length} layers, layers hashed in ${Date.now() - started} ms`);
  signal.throwIfAborted();

  if ((await destination.current()) === image.digest) {
    log.line(`${plan.target.reference} already is ${image.digest}: nothing to push`);
    return { imageReference: plan.target.reference, imageDigest: image.digest };
  }
  const pushStarted = Date.now();
  const result = await destination.write(image);
  log.line(
    `pushed ${plan.target.reference} in ${Date.now() - pushStarted} ms: ${result.uploaded.length} blobs sent` +
      ` (${formatBytes(sentBytes(image, result.uploaded))}), ${result.existing.length} already there, ${result.mounted.length} mounted`,
  );
  return { imageReference: plan.target.reference, imageDigest: image.digest };
}

/** Large-file layers pushed at once (as many as @kiln/oci's registry sink pushes). */
const LARGE_FILE_PUSH_CONCURRENCY = 3;

/** Large layers being found or pushed by this process, by registry and cache key: concurrent builds of versions
 * sharing a weight file wait for the one push instead of each sending it. A build that waited learns only the digest
 * and the repository it went to: its own sink still confirms the blob in its own repository (HEAD, mount or upload)
 * before its manifest goes. */
const inFlight = new Map<string, Promise<LayerFound>>();

type LayerFound = { digests: Required<LayerDigests>; how: 'index' | 'pushed'; ms: number };

/**
 * For a registry target with a layer cache: finds the layer of every large file whose digest is not cached locally
 * in the registry's layer index (shared by every builder), or else pushes it as a stream layer (read once, hashed
 * while sent) and records it there; either way the digest and the repository holding the layer go to the local
 * cache, so buildModelImage reads none of these files and the sink finds each layer by HEAD or mounts it from that
 * repository. The tar is made exactly as buildModelLayers makes a large file's layer (one file under /model, its
 * mode, its sha256): were the two ever to differ, the cache keys would not match and the layer would be hashed and
 * pushed the ordinary way, never wrongly.
 */
async function pushUncachedLargeLayers(plan: BuildPlan, files: ModelFile[], sink: RegistrySink, deps: DaemonlessDeps, log: BuildLog, signal: AbortSignal): Promise<void> {
  const target = plan.target;
  const cache = deps.layerCache;
  if (target.kind !== 'registry' || !cache) return;
  const threshold = deps.largeFileThreshold ?? DEFAULT_LARGE_FILE_THRESHOLD;
  const todo: Array<{ file: ModelFile; tar: TarFile[]; key: string }> = [];
  for (const file of files.filter((f) => f.size > threshold)) {
    const tar: TarFile[] = [{
      name: `model/${file.path}`,
      size: file.size,
      mode: file.executable ? EXEC_MODE : FILE_MODE,
      sha256: file.sha256,
      open: () => file.open(),
    }];
    const key = layerCacheKey(tar);
    if (!(await cache.get(key))) todo.push({ file, tar, key });
  }
  if (!todo.length) return;
  const index = registryLayerIndex(sink.transport, target.layerIndex);

  const findOrPush = async ({ file, tar, key }: (typeof todo)[number]): Promise<LayerFound> => {
    const t0 = Date.now();
    const known = await index.get(key).catch((err: Error) => {
      log.line(`layer index ${target.registry}/${target.layerIndex}: ${err.message} (the layer is pushed)`);
      return undefined;
    });
    // The size is known from the file: an entry disagreeing with it is not this layer.
    if (known && known.size === tarSize(tar)) return { digests: known, how: 'index', ms: Date.now() - t0 };
    signal.throwIfAborted();
    const { layer } = await sink.pushLayer(streamLayer(() => reproducibleTar(tar), { size: tarSize(tar) }));
    const digests = { digest: layer.digest, size: layer.size, diffID: layer.diffID, origin: { registry: target.registry, repository: target.repository } };
    await index.set(key, digests).catch((err: Error) => log.line(`layer ${digests.digest} /model/${file.path}: not recorded in the layer index: ${err.message}`));
    return { digests, how: 'pushed', ms: Date.now() - t0 };
  };

  await forEachConcurrently(todo, LARGE_FILE_PUSH_CONCURRENCY, async (item) => {
    signal.throwIfAborted();
    const flightKey = `${target.registry} ${item.key}`;
    let flight = inFlight.get(flightKey);
    const borrowed = Boolean(flight);
    if (!flight) {
      flight = findOrPush(item).finally(() => inFlight.delete(flightKey));
      inFlight.set(flightKey, flight);
    }
    // Another build's push failing (or being cancelled) is not this build's failure: it tries itself.
    const { digests, how, ms } = await flight.catch((err) => (borrowed ? findOrPush(item) : Promise.reject(err)));
    await cache.set(item.key, digests);
    const where = `layer ${digests.digest} ${formatBytes(digests.size)} /model/${item.file.path}`;
    if (how === 'index') log.line(`${where}: in the registry's layer index (pushed to ${digests.origin.repository}), not read`);
    else if (borrowed) log.line(`${where}: pushed to ${digests.origin.repository} by a build running alongside, not read`);
    else log.line(`${where}: pushed while hashing, in ${ms} ms`);
  });
}

/** The runtime image (linux/amd64 of an index), FAILED_PRECONDITION when it is not there. */
export async function pullBase(ref: string, transports: Transports, log: BuildLog): Promise<Image> {
  const parsed = parseReference(ref);
  try {
    const image = await pullImage(parsed, { transport: transports.get(parsed.registry) });
    log.line(`base: ${ref} (${image.digest}, ${image.layers.length} layers)`);
    return image;
  } catch (err) {
    if (err instanceof KilnError && err.code === 'NOT_FOUND') {
      throw new KilnError('FAILED_PRECONDITION', `runtime image ${ref} not found: ${err.message}`, 'runtime');
    }
    throw err;
  }
}

/** The version's files as streams from the blob store, cut short with CANCELLED when the build is aborted. */
export function modelFiles(plan: Pick<BuildPlan, 'files'>, blobs: BlobStore, signal?: AbortSignal): ModelFile[] {
  return plan.files.map((f) => ({
    path: f.path,
    size: f.size,
    sha256: f.sha256,
    executable: f.executable,
    async open(): Promise<Readable> {
      signal?.throwIfAborted();
      let stream: Readable;
      try {
        stream = await blobs.read(f.sha256);
      } catch (err) {
        if (err instanceof KilnError && err.code === 'NOT_FOUND') {
          throw new KilnError('FAILED_PRECONDITION', `the blob store has no blob ${f.sha256}`, f.path);
        }
        throw err;
      }
      // Read ahead: the blob store keeps streaming while the sink waits on a request, instead of in turns with it.
      // The reading side hands out chunks one by one (object mode): a byte-mode stream's async iterator joins all
      // it holds into one new buffer per step, which with 32 MiB held was a copy of every byte (1.4 CPU s per GiB).
      const ahead = new PassThrough({
        writableHighWaterMark: READ_AHEAD_BYTES,
        readableObjectMode: true,
        readableHighWaterMark: Math.ceil(READ_AHEAD_BYTES / READ_CHUNK_BYTES),
      });
      stream.on('error', (err) => ahead.destroy(err));
      ahead.on('close', () => stream.destroy());
      stream.pipe(ahead);
      return signal ? addAbortSignal(signal, ahead) : ahead;
    },
  }));
}

function sentBytes(image: Image, uploaded: string[]): number {
  const sizes = new Map([...image.layers, image.configBlob].map((b) => [b.digest, b.size]));
  return uploaded.reduce((sum, d) => sum + (sizes.get(d) ?? 0), 0);
}
