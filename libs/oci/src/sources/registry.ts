// Source: an image pulled from a registry (a runtime base): manifest and config fetched, layers streamed on open().
import { PassThrough, Readable } from 'node:stream';
import { KilnError } from '@kiln/errors';
import { sha256Digest } from '../digest';
import { imageFromParts } from '../image';
import { pickPlatform, type PlatformWanted } from '../platform';
import { DistributionRepository } from '../registry/distribution';
import { parseReference, type ImageReference } from '../registry/reference';
import { RegistryTransport, type RegistryOptions } from '../registry/transport';
import { MediaType, type Image, type ImageIndex, type ImageManifest, type Layer } from '../types';

const ACCEPT = [MediaType.OCI_MANIFEST, MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST, MediaType.DOCKER_MANIFEST_LIST].join(', ');

export interface RegistrySourceOptions extends Omit<RegistryOptions, 'registry'> {
  platform?: PlatformWanted;
  transport?: RegistryTransport;
}

/**
 * Pulls `host[:port]/repo[:tag|@digest]`. An OCI index or Docker manifest list is resolved to linux/amd64 (or the
 * given platform); OCI and Docker schema2 manifests are kept byte for byte. Layers carry their origin so a registry
 * sink on the same registry can mount them instead of uploading.
 */
export async function pullImage(ref: string | ImageReference, options: RegistrySourceOptions = {}): Promise<Image> {
  const parsed = typeof ref === 'string' ? parseReference(ref) : ref;
  const transport = options.transport ?? new RegistryTransport({ ...options, registry: parsed.registry });
  const { repository } = parsed;
  const repo = new DistributionRepository(transport, repository, 'pull');
  const where = (what: string) => repo.where(what);

  const getManifest = async (reference: string) => {
    const { raw, contentType } = (await repo.getManifest(reference, ACCEPT))!;
    if (reference.startsWith('sha256:') && sha256Digest(raw) !== reference) {
      throw new KilnError('FAILED_PRECONDITION', `manifest digest is ${sha256Digest(raw)}`, where(reference));
    }
    const parsedBody = JSON.parse(raw.toString('utf8')) as { mediaType?: string; manifests?: unknown; schemaVersion?: number };
    const mediaType = parsedBody.mediaType ?? contentType;
    return { raw, mediaType, body: parsedBody };
  };

  let manifest = await getManifest(parsed.reference);
  if (manifest.mediaType === MediaType.OCI_INDEX || manifest.mediaType === MediaType.DOCKER_MANIFEST_LIST || Array.isArray(manifest.body.manifests)) {
    const chosen = pickPlatform(manifest.body as ImageIndex, options.platform ?? { os: 'linux', architecture: 'amd64' }, where(parsed.reference));
    manifest = await getManifest(chosen.digest);
  }
  if (manifest.mediaType !== MediaType.OCI_MANIFEST && manifest.mediaType !== MediaType.DOCKER_MANIFEST) {
    throw new KilnError('FAILED_PRECONDITION', `unsupported manifest type ${manifest.mediaType || '(none)'} (schema ${manifest.body.schemaVersion})`, where(parsed.reference));
  }
  const imageManifest = manifest.body as unknown as ImageManifest;

  const getBlob = (digest: string): Promise<Response> => repo.getBlob(digest);

  const configRes = await getBlob(imageManifest.config.digest);
  const rawConfig = Buffer.from(await configRes.arrayBuffer());
  const diffIDs = (JSON.parse(rawConfig.toString('utf8')) as { rootfs?: { diff_ids?: string[] } }).rootfs?.diff_ids ?? [];
  if (diffIDs.length !== imageManifest.layers.length) {
    throw new KilnError('FAILED_PRECONDITION', `config has ${diffIDs.length} diff_ids for ${imageManifest.layers.length} layers`, where(imageManifest.config.digest));
  }

  const layers: Layer[] = imageManifest.layers.map((d, i) => ({
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    diffID: diffIDs[i],
    origin: { registry: parsed.registry, repository },
    open: () => {
      const out = new PassThrough();
      getBlob(d.digest)
        .then((res) => {
          if (!res.body) throw new KilnError('UNAVAILABLE', 'blob response has no body', where(d.digest));
          const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
          body.on('error', (err) => out.destroy(err));
          out.on('close', () => body.destroy());
          body.pipe(out);
        })
        .catch((err) => out.destroy(err));
      return out;
    },
  }));
  return imageFromParts(manifest.raw, rawConfig, layers);
}
