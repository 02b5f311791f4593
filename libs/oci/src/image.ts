// Images from layers: an empty base, appending layers to a base (like mutate.Append), image config labels for a
// model version, and the OCI manifest. Nothing here reads a clock: the same inputs give the same image digest.
import { Readable } from 'node:stream';
import { invalidArgument } from '@kiln/errors';
import { canonicalJson, sha256Digest } from './digest';
import { buildModelLayers, type GeneratedFile, type ModelFile, type ModelLayer, type ModelLayerOptions } from './model-layers';
import { MediaType, type Blob, type Image, type ImageConfigFile, type ImageManifest, type Layer } from './types';

/** A blob whose bytes are in memory (configs, manifests). */
export function bufferBlob(mediaType: string, bytes: Buffer): Blob {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.length, open: () => Readable.from([bytes]) };
}

/**
 * An Image from its parts' exact bytes. Used by sources (which must keep the bytes they fetched, or the digests
 * change) and by builders.
 */
export function imageFromParts(rawManifest: Buffer, rawConfig: Buffer, layers: readonly Layer[]): Image {
  const manifest = JSON.parse(rawManifest.toString('utf8')) as ImageManifest;
  const config = JSON.parse(rawConfig.toString('utf8')) as ImageConfigFile;
  const mediaType = manifest.mediaType ?? MediaType.OCI_MANIFEST;
  const configBlob = { ...bufferBlob(manifest.config.mediaType, rawConfig) };
  if (configBlob.digest !== manifest.config.digest) {
    throw invalidArgument(`config digest ${configBlob.digest} does not match manifest ${manifest.config.digest}`, 'config');
  }
  if (layers.length !== manifest.layers.length) {
    throw invalidArgument(`${layers.length} layers for a manifest with ${manifest.layers.length}`, 'layers');
  }
  return {
    manifest,
    rawManifest,
    digest: sha256Digest(rawManifest),
    mediaType,
    config,
    rawConfig,
    configBlob,
    layers,
  };
}

/** Serializes config and manifest (OCI media types) for the given config and layers. */
export function imageFromConfig(config: ImageConfigFile, layers: readonly Layer[], annotations?: Record<string, string>): Image {
  if (config.rootfs.diff_ids.length !== layers.length) {
    throw invalidArgument(`config lists ${config.rootfs.diff_ids.length} diff_ids for ${layers.length} layers`, 'rootfs');
  }
  const rawConfig = Buffer.from(canonicalJson(config));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    config: { mediaType: MediaType.OCI_CONFIG, digest: sha256Digest(rawConfig), size: rawConfig.length },
    layers: layers.map((l) => ({
      mediaType: ociLayerMediaType(l.mediaType),
      digest: l.digest,
      size: l.size,
      ...(l.annotations ? { annotations: l.annotations } : {}),
    })),
    ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
  };
  return imageFromParts(Buffer.from(canonicalJson(manifest)), rawConfig, layers);
}

/** An image with no layers, linux/amd64 unless said otherwise. */
export function emptyImage(platform: { architecture?: string; os?: string } = {}): Image {
  return imageFromConfig(
    {
      architecture: platform.architecture ?? 'amd64',
      os: platform.os ?? 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: [] },
    },
    [],
  );
}

export interface AppendOptions {
  /** Labels merged over the base's (ours win). */
  labels?: Record<string, string>;
  /** One history line per appended layer (`created_by`); defaults to "kiln". */
  history?: string[];
  /** Manifest annotations. */
  annotations?: Record<string, string>;
}

/**
 * A new image: the base's config and layers first (Env, Entrypoint, Cmd... kept), then the given layers. The base
 * is not changed. The result is always an OCI manifest; Docker layer media types are mapped to their OCI twins (same
 * bytes). The config's top-level `created` is dropped so that no time leaks into the digest.
 */
export function appendLayers(base: Image, layers: readonly Layer[], options: AppendOptions = {}): Image {
  const baseConfig = structuredClone(base.config);
  const { created: _created, ...rest } = baseConfig;
  const config: ImageConfigFile = {
    ...rest,
    config: {
      ...(rest.config ?? {}),
      ...(options.labels || rest.config?.Labels
        ? { Labels: { ...(rest.config?.Labels ?? {}), ...(options.labels ?? {}) } }
        : {}),
    },
    rootfs: { type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, ...layers.map((l) => l.diffID)] },
    history: [
      ...(baseConfig.history ?? []),
      ...layers.map((_, i) => ({ created_by: options.history?.[i] ?? 'kiln' })),
    ],
  };
  return imageFromConfig(config, [...base.layers, ...layers], options.annotations);
}

function ociLayerMediaType(mediaType: string): string {
  switch (mediaType) {
    case MediaType.DOCKER_LAYER_GZIP:
      return MediaType.OCI_LAYER_GZIP;
    case MediaType.DOCKER_LAYER_FOREIGN_GZIP:
      return MediaType.OCI_LAYER_NONDISTRIBUTABLE_GZIP;
    default:
      return mediaType;
  }
}

export interface ModelImageOptions extends ModelLayerOptions {
  /** Model name and version: the `ai.kiln.model.*` and `org.opencontainers.image.title/version` labels. */
  name: string;
  version: string | number;
  /** The inferred contract, stored as JSON in the `ai.kiln.contract` label. */
  contract?: unknown;
  /** `org.opencontainers.image.source` / `.revision`, when known. */
  source?: string;
  revision?: string;
  /** Extra labels (ours win on conflicts). */
  labels?: Record<string, string>;
  /** The runtime image the model sits on; an empty linux/amd64 image if absent. */
  base?: Image;
}

export interface ModelImage {
  image: Image;
  /** The layers added for the model (the base's come first in image.layers). */
  modelLayers: ModelLayer[];
}

/** The labels Kiln puts on a model image. No `created`: a timestamp would change the digest on every build. */
export function modelLabels(options: Pick<ModelImageOptions, 'name' | 'version' | 'contract' | 'source' | 'revision' | 'labels'>): Record<string, string> {
  const version = String(options.version);
  return {
    ...(options.labels ?? {}),
    'org.opencontainers.image.title': options.name,
    'org.opencontainers.image.version': version,
    ...(options.source ? { 'org.opencontainers.image.source': options.source } : {}),
    ...(options.revision ? { 'org.opencontainers.image.revision': options.revision } : {}),
    'ai.kiln.model.name': options.name,
    'ai.kiln.model.version': version,
    ...(options.contract !== undefined ? { 'ai.kiln.contract': canonicalJson(options.contract) } : {}),
  };
}

/** A model version's image: its files under /model on the base, with Kiln's labels. */
export async function buildModelImage(files: readonly ModelFile[], options: ModelImageOptions): Promise<ModelImage> {
  if (!options.name) throw invalidArgument('model name is required', 'name');
  const modelLayers = await buildModelLayers(files, options);
  const image = appendLayers(options.base ?? emptyImage(), modelLayers, {
    labels: modelLabels(options),
    history: modelLayers.map((l) =>
      l.kind === 'large-file' ? `kiln: model file /${l.files[0]}` : `kiln: ${l.kind} (${l.files.length})`,
    ),
  });
  return { image, modelLayers };
}

export type { GeneratedFile, ModelFile };
