// What tests and benchmarks read about other processes from /proc (Linux): CPU time, resident memory, and the pid of a
// server found by its command line.
import { readdir, readFile } from 'node:fs/promises';

/** Resident set size now, its high-water mark, and the private (anonymous) part of it now, in bytes. RSS also
 * counts file pages such as the node binary's own code (~40 MiB, shared by every node process). */
export async function rssOf(pid: number): Promise<{ rss: number; hwm: number; anon: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon') };
}

/** CPU seconds (user + system) a process has used so far. */
export async function cpuOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Pids whose command line contains every one of `parts`. */
export async function pidsMatching(...parts: string[]): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd && parts.every((p) => cmd.includes(p))) found.push(Number(entry));
  }
  return found;
}

/** Samples a process's RSS (and its private part) every 100 ms from now; stop() gives the peaks seen, in bytes. */
export function peakMemory(pid: number, from = { rss: 0, anon: 0 }): { stop(): { rss: number; anon: number } } {
  const peak = { ...from };
  const timer = setInterval(() => void rssOf(pid).then((r) => {
    peak.rss = Math.max(peak.rss, r.rss);
    peak.anon = Math.max(peak.anon, r.anon);
  }, () => {}), 100);
  return {
    stop() {
      clearInterval(timer);
      return { ...peak };
    },
  };
}
