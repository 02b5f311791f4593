// The two small interfaces every source and sink shares (Layer, Image), plus descriptors and media types.
import type { Readable } from 'node:stream';

export const MediaType = {
  OCI_MANIFEST: 'application/vnd.oci.image.manifest.v1+json',
  OCI_INDEX: 'application/vnd.oci.image.index.v1+json',
  OCI_CONFIG: 'application/vnd.oci.image.config.v1+json',
  OCI_LAYER: 'application/vnd.oci.image.layer.v1.tar',
  OCI_LAYER_GZIP: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OCI_LAYER_ZSTD: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OCI_LAYER_NONDISTRIBUTABLE_GZIP: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  DOCKER_MANIFEST: 'application/vnd.docker.distribution.manifest.v2+json',
  DOCKER_MANIFEST_LIST: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DOCKER_CONFIG: 'application/vnd.docker.container.image.v1+json',
  DOCKER_LAYER_GZIP: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DOCKER_LAYER_FOREIGN_GZIP: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
}

/** An OCI content descriptor: what a manifest or an index says about one blob. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** Where a blob is already stored, so a registry sink can mount it instead of uploading it. */
export interface BlobOrigin {
  /** host[:port] as in an image reference. */
  registry: string;
  repository: string;
}

/** A blob that can be streamed again and again: a layer, a config. */
export interface Blob {
  readonly mediaType: string;
  /** sha256:<hex> of the bytes open() streams. */
  readonly digest: string;
  readonly size: number;
  /** A fresh stream of the blob's bytes on every call. */
  open(): Readable;
  readonly origin?: BlobOrigin;
}

/** One filesystem layer. For uncompressed layers diffID equals digest. */
export interface Layer extends Blob {
  /** sha256 of the uncompressed tar, as listed in the config's rootfs.diff_ids. */
  readonly diffID: string;
  readonly annotations?: Record<string, string>;
}

export interface ImageConfigFile {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: {
    User?: string;
    ExposedPorts?: Record<string, object>;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Volumes?: Record<string, object>;
    WorkingDir?: string;
    Labels?: Record<string, string>;
    StopSignal?: string;
    [k: string]: unknown;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean }>;
  [k: string]: unknown;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** An image: a config blob, its layers in order, and the manifest that ties them, with their exact bytes. */
export interface Image {
  readonly manifest: ImageManifest;
  /** The manifest's exact bytes: its digest is the image digest. */
  readonly rawManifest: Buffer;
  readonly digest: string;
  readonly mediaType: string;
  readonly config: ImageConfigFile;
  readonly rawConfig: Buffer;
  readonly configBlob: Blob;
  readonly layers: readonly Layer[];
}

/** What a sink reports after writing an image. */
export interface WriteResult {
  /** The manifest digest. */
  digest: string;
  /** Digests of blobs whose bytes were sent (uploaded or copied). */
  uploaded: string[];
  /** Digests of blobs already present, skipped. */
  existing: string[];
  /** Digests of blobs mounted from another repository (registry sinks only). */
  mounted: string[];
}

/** What pointing a tag at a stored manifest did. */
export interface TagResult {
  /** The manifest digest the tag names now. */
  digest: string;
  /** False when the tag already named it (nothing was written). */
  changed: boolean;
}

/** What removing a tag did. */
export interface UntagResult {
  /** Whether the tag is gone (removed now, or not there; or, asked only `ifDigest`, naming another manifest, left). */
  removed: boolean;
  /** Why the tag stays, when it does. */
  detail?: string;
}

/** Somewhere an image can be written to: an OCI layout, a registry, a Docker engine. */
export interface ImageSink {
  write(image: Image, tag: string): Promise<WriteResult>;
  /** The digest of the manifest stored under `tag`, or null when there is none. */
  digestOf(tag: string): Promise<string | null>;
  /**
   * Points `tag` at the manifest `digest` the sink already holds (an image written before under another tag),
   * moving no blob; a tag that named another manifest names this one now. Idempotent. A manifest the sink does not
   * hold is FAILED_PRECONDITION.
   */
  tag(tag: string, digest: string): Promise<TagResult>;
  /** Removes `tag` where the sink can (never the manifest it names), only while it names `ifDigest` when given. */
  untag(tag: string, options?: { ifDigest?: string }): Promise<UntagResult>;
}
