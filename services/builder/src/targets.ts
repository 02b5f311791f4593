// Where images go and come from: the configured sink (OCI layout or registry) with "what is already there under this
// tag", tags moved to an image already there, and registry access options (credentials, plain HTTP) for base images.
import type { KilnConfig } from '@kiln/config';
import {
  isLoopback,
  ociLayoutSink,
  registrySink,
  RegistryTransport,
  type Image,
  type RegistryOptions,
  type RegistrySink,
  type TagResult,
  type UntagResult,
  type WriteResult,
} from '@kiln/oci';
import type { ImageTarget } from './plan';

export interface ImageDestination {
  /** The manifest digest stored under the target's tag (or ref name), or null when there is none. */
  current(): Promise<string | null>;
  write(image: Image): Promise<WriteResult>;
  /** Points the target's tag (or ref name) at a manifest the sink holds, moving no blob. */
  tag(digest: string): Promise<TagResult>;
  /** Removes the target's tag where the sink can (an OCI layout; a registry keeps it), only while it names `ifDigest`. */
  untag(ifDigest?: string): Promise<UntagResult>;
  /** The registry sink of a registry target (large layers are pushed ahead of the image through it). */
  registry?: RegistrySink;
}

/** Options to reach `registry`: the configured credentials and plain-HTTP setting apply to the configured registry. */
export function registryOptions(registry: string, images: KilnConfig['images']): RegistryOptions {
  const configured = registry === images.registry;
  return {
    registry,
    insecure: configured ? images.insecure : isLoopback(registry) && images.insecure,
    credentials: configured && images.username ? { username: images.username, password: images.password ?? '' } : undefined,
    userAgent: 'kiln-builder',
  };
}

/** One transport per registry for the life of the builder, so bearer tokens are reused across builds. */
export class Transports {
  private readonly byRegistry = new Map<string, RegistryTransport>();
  /** `fetch` replaces the global one for the registry requests made through @kiln/oci's transport; a streamed layer
   * PATCH goes over node:http (@kiln/oci's stream upload), so what a build sent is counted in the registry's log. */
  constructor(private readonly images: KilnConfig['images'], private readonly fetchImpl?: typeof fetch) {}

  get(registry: string): RegistryTransport {
    let t = this.byRegistry.get(registry);
    if (!t) {
      t = new RegistryTransport({ ...registryOptions(registry, this.images), fetch: this.fetchImpl });
      this.byRegistry.set(registry, t);
    }
    return t;
  }
}

/**
 * Bytes per PATCH when a large blob is pushed in chunks. Fewer, bigger requests push a GiB layer faster to a
 * Distribution registry than @kiln/oci's 8 MiB default, and gains little beyond 32 MiB (bench/README.md,
 * "Measurements behind code choices"); one chunk per blob pushed at a time is in memory.
 */
export const PUSH_CHUNK_BYTES = 32 * 1024 * 1024;

// The layout sink rewrites index.json (read, change, rename): writes to one layout from this process go one at a time.
const layoutLocks = new Map<string, Promise<unknown>>();

/** Runs `write` after the writes to the layout at `dir` begun before it (index.json's lock then is never waited on). */
function inLayoutOrder<T>(dir: string, write: () => Promise<T>): Promise<T> {
  const previous = layoutLocks.get(dir) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(write);
  layoutLocks.set(dir, next);
  return next;
}

export function imageDestination(target: ImageTarget, transports: Transports): ImageDestination {
  if (target.kind === 'layout') {
    const sink = ociLayoutSink(target.dir);
    return {
      current: () => sink.digestOf(target.refName),
      write: (image) => inLayoutOrder(target.dir, () => sink.write(image, target.refName)),
      tag: (digest) => inLayoutOrder(target.dir, () => sink.tag(target.refName, digest)),
      untag: (ifDigest) => inLayoutOrder(target.dir, () => sink.untag(target.refName, { ifDigest })),
    };
  }
  const sink = registrySink({ registry: target.registry, repository: target.repository, transport: transports.get(target.registry), chunkSize: PUSH_CHUNK_BYTES });
  return {
    current: () => sink.digestOf(target.tag),
    write: (image) => sink.write(image, target.tag),
    tag: (digest) => sink.tag(target.tag, digest),
    untag: (ifDigest) => sink.untag(target.tag, { ifDigest }),
    registry: sink,
  };
}
