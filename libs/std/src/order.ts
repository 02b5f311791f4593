// The one order of paths and names in Kiln: by UTF-16 code unit, as JavaScript compares strings. It is the same on
// every machine and locale (localeCompare is not), which reproducible images and stable listings need.

export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts anything with a path: files of a version, entries of a layer. */
export function byPath(a: { path: string }, b: { path: string }): number {
  return compareCodeUnits(a.path, b.path);
}
