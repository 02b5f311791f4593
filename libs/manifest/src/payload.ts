// Which archive paths a manifest's payload selects. Like Hydrosphere's CLI, an entry names a file or a directory
// (everything below it, with or without a trailing '/'), and may be a glob (`*.pkl`, `./*`).
import picomatch from 'picomatch';
import type { Manifest } from './types';

/** Tells whether an archive path ('/'-separated, relative) is part of the payload. No payload: every path is. */
export function payloadMatcher(manifest: Pick<Manifest, 'payload'>): (path: string) => boolean {
  if (manifest.payload === null) return () => true;
  const entries = manifest.payload.map(entryMatcher);
  return (path) => {
    const candidates = selfAndAncestors(normalize(path));
    return entries.some((matches) => candidates.some(matches));
  };
}

/** The payload entries that select none of `paths`: most likely a typo or a file missing from the archive. */
export function unmatchedPayload(manifest: Pick<Manifest, 'payload'>, paths: readonly string[]): string[] {
  if (manifest.payload === null) return [];
  const candidates = paths.flatMap((p) => selfAndAncestors(normalize(p)));
  return manifest.payload.filter((entry) => !candidates.some(entryMatcher(entry)));
}

function entryMatcher(entry: string): (path: string) => boolean {
  const pattern = normalize(entry);
  // '.', './' and '' name the archive root: everything.
  if (pattern === '') return () => true;
  const isMatch = picomatch(pattern, { dot: true });
  // Called with the path only: picomatch's second parameter turns the answer into a (truthy) object.
  return (path) => isMatch(path);
}

/** `./src//a/` -> `src/a`: the form archive paths and payload entries are compared in. */
function normalize(path: string): string {
  return path
    .replace(/\\/g, '/')
    .split('/')
    .filter((seg) => seg !== '' && seg !== '.')
    .join('/');
}

/** `a/b/c.txt` -> [`a`, `a/b`, `a/b/c.txt`]: an entry that matches a directory selects everything below it. */
function selfAndAncestors(path: string): string[] {
  const segs = path.split('/');
  return segs.map((_, i) => segs.slice(0, i + 1).join('/'));
}
