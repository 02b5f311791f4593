// Replicas benchmark, each service its own process on the real servers of scripts/test-env.
//  builds: 50 versions queued at once (uploaded while no registry works the queue), then built by one registry
//          (KILN_BUILD_CONCURRENCY=8) calling one builder, or two builders round robin; the time from the registry's
//          start to the last release, and the CPU each process spent.
//  reads:  ghz GetModelVersion (50 clients, warm cache) against one registry directly, against HAProxy in front of
//          the same registry, and against HAProxy in front of two registries; throughput and the CPU split (Kiln
//          registries, HAProxy, ghz, Postgres).
//   npx tsx bench/replicas.ts            (BENCH_PART=builds|reads|all, BENCH_ROUNDS=2, BENCH_BUILD_MIB=8,
//                                         BENCH_GET_REQUESTS=60000)
import { testEnv } from './helpers/test-env';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { registryClient } from '@kiln/api';
import { withTransaction } from '@kiln/metadata';
import * as store from '../services/registry/src/store/postgres/versions';
import { REPO_ROOT, sdkTools, startKilnProcess, type KilnProcess } from '../test/helpers/kiln-process';
import { startHaproxy } from '../test/helpers/haproxy';
import { cpuOf, pidsMatching } from '../test/helpers/proc';
import { uploadModel, waitForBuild } from '../test/helpers/services';
import { emptyS3Prefix, freePort, freshDatabase } from '../test/helpers/test-config';

const run = promisify(execFile);
const PART = process.env.BENCH_PART ?? 'all';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BUILD_MIB = Number(process.env.BENCH_BUILD_MIB ?? 8);
const BUILDS = 50;
const GET_REQUESTS = Number(process.env.BENCH_GET_REQUESTS ?? 60_000);
const CONCURRENCY = 50;

/** CPU seconds of every process whose command line has `part` (postgres: postmaster and backends). */
async function cpuOfAll(part: string): Promise<number> {
  let total = 0;
  for (const pid of await pidsMatching(part)) total += await cpuOf(pid).catch(() => 0);
  return total;
}

/** CPU seconds of named groups of processes, read before and after `fn`. */
async function cpuSplit<T>(groups: Record<string, () => Promise<number>>, fn: () => Promise<T>): Promise<{ result: T; seconds: number; cpu: Record<string, number> }> {
  const before = Object.fromEntries(await Promise.all(Object.entries(groups).map(async ([k, f]) => [k, await f()] as const)));
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const self = process.cpuUsage(self0);
  const cpu: Record<string, number> = {};
  for (const [k, f] of Object.entries(groups)) cpu[k] = (await f()) - before[k];
  cpu['bench client'] = (self.user + self.system) / 1e6;
  return { result, seconds, cpu };
}

const pct = (cpu: Record<string, number>, seconds: number) =>
  Object.entries(cpu).map(([k, s]) => `${k} ${s.toFixed(1)} s (${Math.round((100 * s) / seconds)}% of one CPU)`).join(', ');

// ---------------------------------------------------------------------------------------------------------------
// Builds

async function buildRound(builders: number): Promise<{ seconds: number; cpu: Record<string, number> }> {
  const db = await freshDatabase();
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const s3Prefix = `bench-replicas/${runId}/`;
  const procs: KilnProcess[] = [];
  const ports = { registry: await freePort(), inference: await freePort(), builders: await Promise.all(Array.from({ length: builders }, freePort)) };
  const list = (ps: number[]) => ps.map((p) => `127.0.0.1:${p}`).join(',');
  const common = {
    KILN_LOG_LEVEL: 'warn',
    KILN_REGISTRY_ADDRESS: `127.0.0.1:${ports.registry}`,
    KILN_BUILDER_ADDRESS: list(ports.builders),
    KILN_INFERENCE_ADDRESS: `127.0.0.1:${ports.inference}`,
    KILN_IMAGE_REGISTRY: process.env.KILN_TEST_REGISTRY!,
    KILN_IMAGE_REGISTRY_INSECURE: 'true',
    KILN_IMAGE_PREFIX: `kiln-bench-replicas-${runId}`,
    KILN_BUILD_CONCURRENCY: process.env.BENCH_BUILD_CONCURRENCY ?? '8',
    KILN_BUILD_RETRY_DELAY_SECONDS: '1',
    KILN_BUILD_RETRY_MAX_DELAY_SECONDS: '1',
    KILN_BUILD_RETRY_LIMIT: '1000',
  };
  const start = async (service: 'registry' | 'builder' | 'inference', port: number, env: Record<string, string> = {}) => {
    const p = await startKilnProcess({
      script: `services/${service}/src/main.ts`,
      services: [`kiln.v1.${service[0].toUpperCase()}${service.slice(1)}`],
      databaseUrl: db.url,
      s3Prefix,
      ports: { [service]: port },
      env: { ...common, ...env },
    });
    procs.push(p);
    return p;
  };
  try {
    await start('inference', ports.inference);
    // The versions are queued by a registry with no builder to call, which then goes: no build runs until the
    // measured registry starts, and every job is due (retry delay 1 s) by then.
    const loader = await start('registry', ports.registry, { KILN_BUILDER_ADDRESS: `127.0.0.1:${await freePort()}` });
    const client = registryClient(loader.registry);
    const versions: Array<{ model: string; version: number }> = [];
    let next = 0;
    await Promise.all(Array.from({ length: 5 }, async () => {
      while (next < BUILDS) {
        const i = next++;
        const model = `bench/m${i % 10}`;
        const v = await uploadModel(client, model, [{ path: 'weights.bin', content: randomBytes(BUILD_MIB * 1024 * 1024) }, { path: 'config.json', content: `{"i": ${i}}` }]);
        versions.push({ model, version: Number(v.version) });
      }
    }));
    client.close();
    await loader.stop();
    procs.splice(procs.indexOf(loader), 1);
    const builderProcs = await Promise.all(ports.builders.map((p) => start('builder', p)));
    await new Promise((r) => setTimeout(r, 1500)); // every job due
    const cpuOf1 = (p: KilnProcess) => () => cpuOf(p.pid).catch(() => 0);
    let registry: KilnProcess | undefined;
    const measured = await cpuSplit({
      builders: async () => (await Promise.all(builderProcs.map((b) => cpuOf1(b)()))).reduce((a, b) => a + b, 0),
      inference: cpuOf1(procs[0]),
      registry: async () => (registry ? cpuOf(registry.pid).catch(() => 0) : 0),
      postgres: () => cpuOfAll(`postgres: kiln ${new URL(db.url).pathname.slice(1)} `),
      minio: () => cpuOfAll('minio'),
      'docker-registry': () => cpuOfAll('docker-registry'),
    }, async () => {
      registry = await start('registry', ports.registry);
      const watcher = registryClient(registry.registry);
      let i = 0;
      await Promise.all(Array.from({ length: 10 }, async () => {
        while (i < versions.length) {
          const { model, version } = versions[i++];
          const { version: v } = await waitForBuild(watcher, model, version, { timeoutMs: 600_000 });
          if (v.status !== 'MODEL_VERSION_STATUS_RELEASED') throw new Error(`${model}:${version}: ${v.failureReason}`);
        }
      }));
      watcher.close();
    });
    return { seconds: measured.seconds, cpu: measured.cpu };
  } finally {
    for (const p of procs.reverse()) await p.stop().catch(() => {});
    await db.drop();
    await emptyS3Prefix(s3Prefix);
  }
}

async function builds(): Promise<void> {
  console.log(`\n## builds: ${BUILDS} versions of ${BUILD_MIB} MiB + a small file, queued at once; one registry (${process.env.BENCH_BUILD_CONCURRENCY ?? 8} builds at once), 1 or 2 builders`);
  const results: Record<number, Array<{ seconds: number; cpu: Record<string, number> }>> = { 1: [], 2: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of round % 2 ? [2, 1] : [1, 2]) {
      const r = await buildRound(n);
      results[n].push(r);
      console.log(`round ${round + 1}, ${n} builder(s): ${r.seconds.toFixed(1)} s, ${(BUILDS / r.seconds).toFixed(2)} builds/s; CPU: ${pct(r.cpu, r.seconds)}`);
    }
  }
  const mean = (xs: Array<{ seconds: number }>) => xs.reduce((s, x) => s + BUILDS / x.seconds, 0) / xs.length;
  console.log(`throughput 2 builders / 1 builder: ${(mean(results[2]) / mean(results[1])).toFixed(2)} (rounds: ${results[1].map((r, i) => (r.seconds / results[2][i].seconds).toFixed(2)).join(', ')}); bar 1.7`);
}

// ---------------------------------------------------------------------------------------------------------------
// Reads

async function reads(): Promise<void> {
  const tools = await sdkTools();
  const db = await freshDatabase();
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const s3Prefix = `bench-replicas/${runId}/`;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-replicas-'));
  const procs: KilnProcess[] = [];
  const lbs: Array<{ stop(): Promise<void> }> = [];
  try {
    const ports = [await freePort(), await freePort()];
    for (const port of ports) {
      procs.push(await startKilnProcess({
        script: 'services/registry/src/main.ts', services: ['kiln.v1.Registry'], databaseUrl: db.url, s3Prefix, ports: { registry: port },
        env: { KILN_LOG_LEVEL: 'warn', KILN_BUILDER_ADDRESS: '127.0.0.1:1', KILN_INFERENCE_ADDRESS: '127.0.0.1:1' },
      }));
    }
    // 1,000 released versions (10 models x 100), through the registry's own store functions.
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    const requests: Array<{ model: string; version: number }> = [];
    for (let m = 0; m < 10; m++) {
      const model = `bench-${m}`;
      for (let v = 1; v <= 100; v++) {
        await withTransaction(pool, (tx) => store.insertVersion(tx, {
          model, files: [{ path: 'model.onnx', size: 27232, sha256: '0'.repeat(64), executable: false }], manifest: '',
          labels: { team: 'bench' }, metadata: {}, contract: null, runtime: '',
        }));
        await store.setBuildResult(pool, model, v, { imageReference: `r.example/kiln/${model}:${v}`, imageDigest: `sha256:${'0'.repeat(64)}` });
        requests.push({ model, version: v });
      }
    }
    await pool.end();
    const data = path.join(tmp, 'get.json');
    await writeFile(data, JSON.stringify(requests));
    const one = await startHaproxy({ servers: [procs[0].registry], healthService: 'kiln.v1.Registry' });
    const two = await startHaproxy({ servers: procs.map((p) => p.registry), healthService: 'kiln.v1.Registry' });
    lbs.push(one, two);
    const ghz = async (address: string, total: number) => {
      const args = ['-f', '%U %S', tools.ghz, '--insecure', '--proto', 'proto/kiln/v1/registry.proto', '--import-paths', 'proto',
        '--call', 'kiln.v1.Registry.GetModelVersion', '--data-file', data, '--disable-template-functions', '--disable-template-data',
        '-c', String(CONCURRENCY), '-n', String(total), '--connections', '4', '--cpus', process.env.BENCH_GHZ_CPUS ?? '1', '--skipFirst', '1000', '-O', 'json', address];
      const { stdout, stderr } = await run('/usr/bin/time', args, { cwd: REPO_ROOT, maxBuffer: 64 << 20, timeout: 10 * 60_000 });
      const [user, sys] = stderr.trim().split('\n').pop()!.split(' ').map(Number);
      const report = JSON.parse(stdout) as { rps: number; statusCodeDistribution: Record<string, number>; latencyDistribution: Array<{ percentage: number; latency: number }> };
      return { report, ghzCpu: user + sys };
    };
    // Warm every cache (each registry's own, HAProxy's connections).
    for (const address of [procs[0].registry, procs[1].registry, two.address]) await ghz(address, 5000);
    const targets: Array<[string, string, KilnProcess[], number | undefined]> = [
      ['one registry, direct', procs[0].registry, [procs[0]], undefined],
      ['HAProxy, one registry', one.address, [procs[0]], (one as { pid: number }).pid],
      ['HAProxy, two registries', two.address, procs, (two as { pid: number }).pid],
    ];
    const rps: Record<string, number[]> = {};
    console.log(`\n## reads: ghz GetModelVersion, ${CONCURRENCY} clients on 4 connections, ${GET_REQUESTS.toLocaleString('en')} requests a round, warm (${os.cpus().length} CPUs: ${os.cpus()[0].model})`);
    console.log('\n| target | round | rps | p50 | p99 | errors | CPU, % of one CPU over the run (ms per 1,000 calls): registries / HAProxy / ghz / Postgres |\n|---|---|---|---|---|---|---|');
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, address, regs, haproxyPid] of round % 2 ? [...targets].reverse() : targets) {
        const m = await cpuSplit({
          registries: async () => (await Promise.all(regs.map((p) => cpuOf(p.pid)))).reduce((a, b) => a + b, 0),
          haproxy: async () => (haproxyPid ? cpuOf(haproxyPid) : 0),
          postgres: () => cpuOfAll(`postgres: kiln ${new URL(db.url).pathname.slice(1)} `),
        }, () => ghz(address, GET_REQUESTS));
        const { report, ghzCpu } = m.result;
        const p = (n: number) => ((report.latencyDistribution.find((d) => d.percentage === n)?.latency ?? NaN) / 1e6).toFixed(2);
        const errors = Object.entries(report.statusCodeDistribution).filter(([c]) => c !== 'OK');
        // Of one CPU, over the run; and CPU ms per 1,000 calls.
        const share = (s: number) => `${Math.round((100 * s) / m.seconds)}% (${Math.round((1000 * s) / (GET_REQUESTS / 1000))})`;
        (rps[name] ??= []).push(report.rps);
        console.log(`| ${name} | ${round + 1} | ${Math.round(report.rps).toLocaleString('en')} | ${p(50)} ms | ${p(99)} ms | ${errors.length ? errors.map(([c, n]) => `${c} ${n}`).join(', ') : '0'} | ` +
          `${share(m.cpu.registries)} / ${share(m.cpu.haproxy)} / ${share(ghzCpu)} / ${share(m.cpu.postgres)} |`);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const direct = mean(rps['one registry, direct']);
    console.log(`\nHAProxy + two registries / one registry direct: ${(mean(rps['HAProxy, two registries']) / direct).toFixed(2)}; ` +
      `HAProxy + one registry / direct: ${(mean(rps['HAProxy, one registry']) / direct).toFixed(2)}; bar 1.6`);
  } finally {
    for (const lb of lbs) await lb.stop();
    for (const p of procs.reverse()) await p.stop().catch(() => {});
    await db.drop();
    await rm(tmp, { recursive: true, force: true });
  }
}

const stopEnv = await testEnv();
try {
  if (PART === 'builds' || PART === 'all') await builds();
  if (PART === 'reads' || PART === 'all') await reads();
} finally {
  await stopEnv();
}
