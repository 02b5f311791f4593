// A model's files as reproducible layers: each big file in a layer of its own, small files together, generated
// files apart, so an unchanged weight file keeps its layer digest from one version to the next.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { invalidArgument } from '@kiln/errors';
import { digestStream } from './digest';
import { checkRelativePath, compareBytes, EXEC_MODE, FILE_MODE, reproducibleTar, type TarFile } from './tar';
import { MediaType, type BlobOrigin, type Layer } from './types';

/** One file of a model version, streamed on demand. */
export interface ModelFile {
  /** Relative POSIX path inside the model (`variables/variables.index`). */
  path: string;
  size: number;
  /** Hex sha256 of the content, as recorded at upload. */
  sha256: string;
  executable?: boolean;
  open(): Promise<Readable>;
}

/** A small file Kiln writes itself (a contract, a README); content is in memory. */
export interface GeneratedFile {
  /** Absolute (`/model/contract.json`) or relative to the model root. */
  path: string;
  content: Buffer | string;
  executable?: boolean;
}

export interface LayerDigests {
  digest: string;
  size: number;
  diffID: string;
  /** A repository the layer was pushed to: a registry sink of the same registry mounts it from there. */
  origin?: BlobOrigin;
}

/** Remembers layer digests so a rebuild with unchanged files does not read them again. */
export interface LayerCache {
  get(key: string): Promise<LayerDigests | undefined> | LayerDigests | undefined;
  set(key: string, value: LayerDigests): Promise<void> | void;
}

export interface ModelLayerOptions {
  /** Where the model's files go in the image. Default `/model`. */
  root?: string;
  /** Files larger than this get a layer of their own. Default 16 MiB. */
  largeFileThreshold?: number;
  /** Generated files, in one extra layer. */
  extraFiles?: GeneratedFile[];
  layerCache?: LayerCache;
}

export type ModelLayerKind = 'large-file' | 'small-files' | 'generated';

export interface ModelLayer extends Layer {
  readonly kind: ModelLayerKind;
  /** Paths (in the image, without leading slash) of the files in this layer. */
  readonly files: readonly string[];
  /** True when the digest came from the cache and no file was read. */
  readonly cached: boolean;
}

export const DEFAULT_LARGE_FILE_THRESHOLD = 16 * 1024 * 1024;

// Bumped whenever the tar format changes, so old cache entries stop matching.
const LAYER_FORMAT = 'kiln-oci-tar-v1';

/**
 * Builds the layers for a model's files. Each layer's tar is streamed once to compute its digest (unless the cache
 * knows it); the returned layers stream it again on open(). Order: large files by path, small files, generated.
 */
export async function buildModelLayers(files: readonly ModelFile[], options: ModelLayerOptions = {}): Promise<ModelLayer[]> {
  const root = normalizeRoot(options.root ?? '/model');
  const threshold = options.largeFileThreshold ?? DEFAULT_LARGE_FILE_THRESHOLD;
  if (!(threshold >= 0)) throw invalidArgument(`largeFileThreshold must be >= 0, got ${threshold}`, 'largeFileThreshold');

  const seen = new Set<string>();
  const claim = (name: string, location: string) => {
    if (seen.has(name)) throw invalidArgument(`duplicate path /${name}`, location);
    seen.add(name);
  };

  const large: TarFile[] = [];
  const small: TarFile[] = [];
  files.forEach((f, i) => {
    const location = `files[${i}].path`;
    const name = `${root}/${checkRelativePath(f.path, location)}`;
    claim(name, location);
    if (!/^[a-f0-9]{64}$/.test(f.sha256)) throw invalidArgument(`not a hex sha256: ${f.sha256}`, `files[${i}].sha256`);
    if (!Number.isSafeInteger(f.size) || f.size < 0) throw invalidArgument(`bad size ${f.size}`, `files[${i}].size`);
    const entry: TarFile = {
      name,
      size: f.size,
      mode: f.executable ? EXEC_MODE : FILE_MODE,
      sha256: f.sha256,
      open: () => f.open(),
    };
    (f.size > threshold ? large : small).push(entry);
  });

  const generated: TarFile[] = (options.extraFiles ?? []).map((g, i) => {
    const location = `extraFiles[${i}].path`;
    const name = g.path.startsWith('/')
      ? checkRelativePath(g.path.slice(1), location)
      : `${root}/${checkRelativePath(g.path, location)}`;
    claim(name, location);
    const content = typeof g.content === 'string' ? Buffer.from(g.content) : g.content;
    return {
      name,
      size: content.length,
      mode: g.executable ? EXEC_MODE : FILE_MODE,
      sha256: createHash('sha256').update(content).digest('hex'),
      open: () => Readable.from([content]),
    };
  });

  large.sort((a, b) => compareBytes(a.name, b.name));
  const groups: Array<{ kind: ModelLayerKind; files: TarFile[] }> = [
    ...large.map((f) => ({ kind: 'large-file' as const, files: [f] })),
    ...(small.length ? [{ kind: 'small-files' as const, files: small }] : []),
    ...(generated.length ? [{ kind: 'generated' as const, files: generated }] : []),
  ];

  const layers: ModelLayer[] = [];
  for (const group of groups) layers.push(await tarLayer(group.kind, group.files, options.layerCache));
  return layers;
}

/** The cache key of a layer: everything that goes into its tar bytes, and nothing else. */
export function layerCacheKey(files: readonly TarFile[]): string {
  const lines = [...files]
    .sort((a, b) => compareBytes(a.name, b.name))
    .map((f) => `${f.sha256}\t${f.size}\t${f.mode.toString(8)}\t${f.name}`);
  return `${LAYER_FORMAT}:${createHash('sha256').update(lines.join('\n')).digest('hex')}`;
}

async function tarLayer(kind: ModelLayerKind, files: TarFile[], cache?: LayerCache): Promise<ModelLayer> {
  const key = layerCacheKey(files);
  let digests = cache ? await cache.get(key) : undefined;
  const cached = Boolean(digests);
  if (!digests) {
    const { digest, size } = await digestStream(reproducibleTar(files));
    digests = { digest, size, diffID: digest };
    if (cache) await cache.set(key, digests);
  }
  const { digest, size, diffID, origin } = digests;
  return {
    kind,
    ...(origin ? { origin } : {}),
    files: files.map((f) => f.name).sort(compareBytes),
    cached,
    mediaType: MediaType.OCI_LAYER,
    digest,
    size,
    diffID,
    open: () => reproducibleTar(files),
  };
}

/** `/model/` -> `model`; `/` is not allowed (model files never go to the image root). */
function normalizeRoot(root: string): string {
  const trimmed = root.replace(/^\/+/, '').replace(/\/+$/, '');
  if (!trimmed) throw invalidArgument('root must not be /', 'root');
  return checkRelativePath(trimmed, 'root');
}

/** An in-memory LayerCache, for tests and for one process's rebuilds. */
export function memoryLayerCache(): LayerCache & { readonly entries: Map<string, LayerDigests> } {
  const entries = new Map<string, LayerDigests>();
  return { entries, get: (k) => entries.get(k), set: (k, v) => void entries.set(k, v) };
}

/**
 * A layer of any files, directories and links (a root filesystem's, Kiln's own image's): the reproducible tar of
 * them, read once here for its digest.
 */
export async function layerFromFiles(files: readonly TarFile[], annotations?: Record<string, string>): Promise<Layer> {
  const { digest, size } = await digestStream(reproducibleTar(files));
  return { mediaType: MediaType.OCI_LAYER, digest, size, diffID: digest, open: () => reproducibleTar(files), ...(annotations ? { annotations } : {}) };
}
