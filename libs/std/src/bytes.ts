// Byte counts for people: build logs and the CLI.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 444 B, 2.5 KiB, 1.0 GiB: binary units, one decimal above bytes. */
export function formatBytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${UNITS[i]}`;
}
