// Picking one platform's manifest out of an OCI index or a Docker manifest list.
import { notFound } from '@kiln/errors';
import type { Descriptor, ImageIndex } from './types';

export interface PlatformWanted {
  os: string;
  architecture: string;
  variant?: string;
}

export function pickPlatform(index: ImageIndex, want: PlatformWanted, location: string): Descriptor {
  const matches = index.manifests.filter(
    (m) =>
      m.platform?.os === want.os &&
      m.platform?.architecture === want.architecture &&
      (!want.variant || m.platform?.variant === want.variant),
  );
  if (matches.length === 0) {
    const have = index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).join(', ');
    throw notFound(`no ${want.os}/${want.architecture} image in index (has ${have || 'nothing'})`, location);
  }
  return matches[0];
}
