// bench/startup: `npm start` on embedded defaults (PGlite, local blobs, OCI layout) until the registry answers its
// health check, on a data folder already made by an earlier start (warm) and on fresh ones, against node's own empty
// start in the same run. A fresh folder is filled from the embedded database template (libs/metadata/src/embedded.ts):
// "first start" takes the spare copy that `npm ci` leaves ready, as a new user's first start does; "fresh, copied"
// finds none (another new folder took it a moment ago) and copies the template. Each start's log gives where its time
// went.
//   npx tsx bench/startup.ts          (BENCH_ROUNDS=5 warm starts, BENCH_FRESH_ROUNDS=2 of each kind of fresh start;
//                                      BENCH_VIA=node runs `node scripts/service.mjs services/all.ts`, without npm)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withServiceEnv } from '../scripts/service-env';
import { ensureTemplate, makeSpare } from '../libs/metadata/src/embedded';
import { registryTemplate } from '../services/registry/src/database';
import { createLogger } from '../libs/log/src/index';
import { healthCheck } from '../test/helpers/kiln-process';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FRESH_ROUNDS = Number(process.env.BENCH_FRESH_ROUNDS ?? 2);
const GOAL_MS = 2000;
const VIA_NPM = (process.env.BENCH_VIA ?? 'npm') === 'npm';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${Math.round(x)} ms`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

interface Start {
  /** From spawn to the registry's first SERVING answer. */
  totalMs: number;
  /** Log events by message, in ms after spawn (pino's own timestamps). */
  events: Array<[string, number]>;
}

/** One `npm start` (as package.json runs it: scripts/service.mjs with service-env's environment) on `dataDir`. */
async function startOnce(dataDir: string): Promise<Start> {
  const [registry, builder, inference] = await Promise.all([freePort(), freePort(), freePort()]);
  const env = withServiceEnv({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    KILN_DATA_DIR: dataDir,
    KILN_REGISTRY_LISTEN: `127.0.0.1:${registry}`,
    KILN_BUILDER_LISTEN: `127.0.0.1:${builder}`,
    KILN_INFERENCE_LISTEN: `127.0.0.1:${inference}`,
    KILN_REGISTRY_METRICS_LISTEN: 'off',
  });
  const spawnedAt = Date.now();
  const t0 = performance.now();
  // npm start as a user runs it (npm, its shell, then node), in a process group of its own to stop it whole.
  const child = VIA_NPM
    ? spawn('npm', ['start', '--silent'], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'], detached: true })
    : spawn(process.execPath, [path.join(root, 'scripts/service.mjs'), 'services/all.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let totalMs = NaN;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kiln exited before it was up:\n${output}`);
    const status = await healthCheck(`127.0.0.1:${registry}`, 'kiln.v1.Registry', 1000).catch(() => '');
    if (status === 'SERVING' || status === '1') {
      totalMs = performance.now() - t0;
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  if (VIA_NPM) process.kill(-child.pid!, 'SIGTERM');
  else child.kill('SIGTERM');
  await exited;
  // The next start opens the same PGlite folder: every process of this one must be gone first.
  while (VIA_NPM && groupAlive(child.pid!)) await new Promise((r) => setTimeout(r, 20));
  const events: Array<[string, number]> = [];
  for (const line of output.split('\n')) {
    try {
      const e = JSON.parse(line) as { time: number; msg: string; service?: string };
      events.push([`${e.service ?? 'process'}: ${e.msg}`, e.time - spawnedAt]);
    } catch {
      // not a log line
    }
  }
  return { totalMs, events };
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function nodeEmptyStartMs(): number {
  const t0 = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  return performance.now() - t0;
}

const nodeStarts = Array.from({ length: 5 }, nodeEmptyStartMs);
console.log(VIA_NPM ? 'as `npm start`' : 'as `node scripts/service.mjs services/all.ts`');
const warmDir = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-startup-'));
try {
  console.log(`node -e 0: ${nodeStarts.map(ms).join(', ')} (median ${ms(median(nodeStarts))})`);
  const template = await ensureTemplate(await registryTemplate(createLogger('bench', 'warn')), createLogger('bench', 'warn'));
  if (!template) throw new Error('no embedded database template could be made');
  const fresh: Start[] = [];
  const copied: Start[] = [];
  for (let i = 0; i < FRESH_ROUNDS * 2; i++) {
    const withSpare = i % 2 === 0;
    if (withSpare) await makeSpare(template, createLogger('bench', 'warn'));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-startup-fresh-'));
    try {
      (withSpare ? fresh : copied).push(await startOnce(dir));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  await startOnce(warmDir); // makes the warm folder
  const warm: Start[] = [];
  for (let i = 0; i < ROUNDS; i++) warm.push(await startOnce(warmDir));

  for (const [name, starts] of [['first start (fresh data folder, the spare ready as after npm ci)', fresh], ['fresh data folder, template copied', copied], ['warm start', warm]] as const) {
    if (!starts.length) continue;
    const totals = starts.map((s) => s.totalMs);
    const m = median(totals);
    console.log(`\n${name}: ${totals.map(ms).join(', ')}`);
    console.log(`  median ${ms(m)}: ${(m / median(nodeStarts)).toFixed(1)}x node's empty start, ${(m / GOAL_MS).toFixed(2)}x the ${GOAL_MS} ms goal`);
    console.log('  where the median start went (ms after spawn):');
    const middle = starts[totals.indexOf(m)];
    for (const [event, at] of middle.events) console.log(`    ${String(at).padStart(6)}  ${event}`);
  }
} finally {
  await rm(warmDir, { recursive: true, force: true });
}
