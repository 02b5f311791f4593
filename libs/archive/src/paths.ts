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

type EntryKind = 'file' | 'link' | 'directory';

/**
 * The archive's namespace as its entries arrive. Each path is one thing: a file, a link, or a folder (an explicit
 * directory entry, or implied by a deeper entry); no entry may sit below a file or go through a link. Without this
 * rule `a` and `a/b` (or a symlink `s` and a file `s/x`) would both be accepted and extract differently on every
 * system. Errors name both entries.
 */
export class EntryPaths {
  // Path -> what it is and the archive entry (its name as written) that made it so.
  readonly #paths = new Map<string, { kind: EntryKind | 'parent'; entry: string }>();

  /** Records `path` (canonical, non-empty) as `kind`, from the entry named `entry`; `where` locates errors. */
  add(path: string, kind: EntryKind, entry: string, where: string): void {
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      const parent = path.slice(0, slash);
      const at = this.#paths.get(parent);
      if (!at) this.#paths.set(parent, { kind: 'parent', entry });
      else if (at.kind === 'file') {
        throw invalidArgument(`${path} needs ${parent} to be a folder, but archive entry ${JSON.stringify(at.entry)} is a file`, where);
      } else if (at.kind === 'link') {
        throw invalidArgument(`${path} goes through ${parent}, which archive entry ${JSON.stringify(at.entry)} makes a link; entries may not go through links`, where);
      }
    }
    const existing = this.#paths.get(path);
    if (existing) {
      const isFolder = existing.kind === 'directory' || existing.kind === 'parent';
      if (kind === 'directory' && isFolder) return;
      if (kind !== 'directory' && !isFolder) {
        throw invalidArgument(`duplicate path ${path} (also archive entry ${JSON.stringify(existing.entry)})`, where);
      }
      const other = `archive entry ${JSON.stringify(existing.entry)}`;
      throw invalidArgument(
        existing.kind === 'parent'
          ? `${path} would be a ${kind}, but ${other} lies inside it, so it is a folder`
          : `${path} would be a ${kind === 'directory' ? 'folder' : kind}, but ${other} makes it a ${existing.kind === 'directory' ? 'folder' : existing.kind}`,
        where,
      );
    }
    this.#paths.set(path, { kind, entry });
  }

  /** Whether `path` is a folder (a directory entry, or the parent of another entry). */
  isFolder(path: string): boolean {
    const kind = this.#paths.get(path)?.kind;
    return kind === 'directory' || kind === 'parent';
  }
}
