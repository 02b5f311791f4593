// A layer index kept in the registry itself: for a layer cache key (layerCacheKey: content-derived, so never stale),
// the layer's digests and the repository it was pushed to. Every builder pushing to the registry shares it (another
// replica, a restarted one with an empty disk), so a weight file already pushed is neither read nor sent again: the
// sink finds the layer by HEAD, or mounts it from that repository.
//
// An entry is a tag of one repository (the name is the caller's: Kiln uses `<prefix>/kiln/layers`, which no model
// repository can be, as model names have no '/') whose manifest has no layers and holds the entry in annotations.
// It references no layer, so it keeps none alive: when the registry has removed the layer since, the sink's HEAD
// and mount miss and the layer is uploaded as on a first build. An entry is trusted as the registry's images are:
// whoever can write it can write those too.
import { canonicalJson, sha256Digest } from '../digest';
import { imageFromParts } from '../image';
import { registrySink } from '../sinks/registry';
import { MediaType, type ImageManifest } from '../types';
import type { LayerDigests } from '../model-layers';
import { DistributionRepository } from './distribution';
import { checkRepository, checkTag } from './reference';
import type { RegistryTransport } from './transport';

/** The OCI empty descriptor's blob (`{}`): the config of an index entry. */
const EMPTY_CONFIG = Buffer.from('{}');
const EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
const A = {
  key: 'ai.kiln.layer.key',
  digest: 'ai.kiln.layer.digest',
  diffID: 'ai.kiln.layer.diff-id',
  size: 'ai.kiln.layer.size',
  repository: 'ai.kiln.layer.repository',
} as const;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

export interface RegistryLayerIndex {
  /** The entry for `key`, with its origin (this registry and the repository recorded), or undefined. */
  get(key: string): Promise<Required<LayerDigests> | undefined>;
  /** Records `value` (its origin must be a repository of this registry) under `key`. */
  set(key: string, value: Required<LayerDigests>): Promise<void>;
}

export function registryLayerIndex(transport: RegistryTransport, repository: string): RegistryLayerIndex {
  checkRepository(repository, 'layer index repository');
  const repo = new DistributionRepository(transport, repository, 'pull');
  return {
    async get(key) {
      const tag = tagOf(key);
      const found = await repo.getManifest(tag, MediaType.OCI_MANIFEST, { missingOk: true, location: `${transport.registry}/${repository}:${tag}` });
      if (!found) return undefined;
      const a = (JSON.parse(found.raw.toString('utf8')) as ImageManifest).annotations ?? {};
      const size = Number(a[A.size]);
      // A malformed entry is a miss: the layer is then hashed and pushed, and the entry written again.
      if (a[A.key] !== key || !DIGEST.test(a[A.digest] ?? '') || !DIGEST.test(a[A.diffID] ?? '') || !Number.isSafeInteger(size) || size < 0) return undefined;
      try {
        checkRepository(a[A.repository] ?? '');
      } catch {
        return undefined;
      }
      return { digest: a[A.digest], diffID: a[A.diffID], size, origin: { registry: transport.registry, repository: a[A.repository] } };
    },
    async set(key, value) {
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MediaType.OCI_MANIFEST,
        config: { mediaType: EMPTY_MEDIA_TYPE, digest: sha256Digest(EMPTY_CONFIG), size: EMPTY_CONFIG.length },
        layers: [],
        annotations: { [A.key]: key, [A.digest]: value.digest, [A.diffID]: value.diffID, [A.size]: String(value.size), [A.repository]: value.origin.repository },
      };
      const entry = imageFromParts(Buffer.from(canonicalJson(manifest)), EMPTY_CONFIG, []);
      await registrySink({ registry: transport.registry, repository, transport }).write(entry, tagOf(key));
    },
  };
}

/** `kiln-oci-tar-v1:<hex>` -> `kiln-oci-tar-v1-<hex>` (a tag allows no ':'). */
function tagOf(key: string): string {
  return checkTag(key.replace(/[^A-Za-z0-9_.-]/g, '-'), 'layer cache key');
}
