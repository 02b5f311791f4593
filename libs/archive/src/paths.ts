// Path rules for archive entries: relative, '/'-separated, inside the model's root.
import path from 'node:path/posix';
import { invalidArgument } from '@kiln/errors';

/** The entry's path in canonical form ('a/b.txt'); '' for the root itself. Rejects absolute paths and '..'. */
export function normalizeEntryPath(name: string, where: string): string {
  if (name.includes('\0')) throw invalidArgument('the path contains a NUL byte', where);
  if (name.startsWith('/')) throw invalidArgument('absolute paths are not allowed', where);
  if (/^[A-Za-z]:[\\/]/.test(name)) throw invalidArgument('absolute (drive-letter) paths are not allowed', where);
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw invalidArgument("paths with '..' are not allowed", where);
  return segments.join('/');
}

/** Where a link points, as a canonical path inside the root; rejects links that escape it. */
export function resolveLinkTarget(entryPath: string, linkname: string, hardLink: boolean, where: string): string {
  if (!linkname) throw invalidArgument('the link has no target', where);
  if (linkname.startsWith('/')) throw invalidArgument(`link target ${linkname} is absolute: it escapes the root`, where);
  // Hard links name their target from the archive root; symlinks are relative to the link's own folder.
  const joined = hardLink ? path.normalize(linkname) : path.normalize(path.join(path.dirname(entryPath), linkname));
  if (joined === '..' || joined.startsWith('../')) throw invalidArgument(`link target ${linkname} escapes the root`, where);
  return joined.replace(/^\.\//, '').replace(/\/$/, '');
}
