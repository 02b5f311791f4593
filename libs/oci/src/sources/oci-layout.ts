// Source: an image read back from an OCI image layout directory, by ref name (or the only image in it).
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { notFound, invalidArgument } from '@kiln/errors';
import { imageFromParts } from '../image';
import { blobPath, readIndex, REF_NAME_ANNOTATION } from '../sinks/oci-layout';
import { MediaType, type Image, type ImageIndex, type ImageManifest, type Layer } from '../types';
import { pickPlatform } from '../platform';

export async function readOciLayout(dir: string, ref?: string, platform = { os: 'linux', architecture: 'amd64' }): Promise<Image> {
  const index = await readIndex(path.join(dir, 'index.json'));
  const candidates = ref ? index.manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] === ref) : index.manifests;
  if (candidates.length === 0) throw notFound(`no image ${ref ? `tagged ${ref}` : ''} in layout`, dir);
  if (candidates.length > 1 && !ref) throw invalidArgument('layout holds several images: give a ref', dir);
  let desc = candidates[0];
  if (desc.mediaType === MediaType.OCI_INDEX || desc.mediaType === MediaType.DOCKER_MANIFEST_LIST) {
    const nested = JSON.parse(await fs.readFile(blobPath(dir, desc.digest), 'utf8')) as ImageIndex;
    desc = pickPlatform(nested, platform, dir);
  }
  const rawManifest = await fs.readFile(blobPath(dir, desc.digest));
  const manifest = JSON.parse(rawManifest.toString('utf8')) as ImageManifest;
  const rawConfig = await fs.readFile(blobPath(dir, manifest.config.digest));
  const diffIDs = (JSON.parse(rawConfig.toString('utf8')) as { rootfs?: { diff_ids?: string[] } }).rootfs?.diff_ids ?? [];
  const layers: Layer[] = manifest.layers.map((d, i) => ({
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    diffID: diffIDs[i] ?? d.digest,
    open: () => createReadStream(blobPath(dir, d.digest)),
  }));
  return imageFromParts(rawManifest, rawConfig, layers);
}
