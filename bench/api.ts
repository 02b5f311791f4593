// API load benchmark: Kiln (tsx services/all.ts) on the real Postgres and MinIO of scripts/test-env, a registry of
// 10,000 versions, then ghz at 50 concurrent clients against GetModelVersion and ListModelVersions.
//   npx tsx bench/api.ts            (BENCH_MODELS, BENCH_VERSIONS, BENCH_GET_REQUESTS, BENCH_LIST_REQUESTS override)
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import pg from 'pg';
import { withTransaction } from '@kiln/metadata';
import * as store from '../services/registry/src/store';
import { REPO_ROOT, sdkTools, startKilnProcess } from '../test/helpers/kiln-process';

const run = promisify(execFile);
const MODELS = Number(process.env.BENCH_MODELS ?? 100);
const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 100);
const GET_REQUESTS = Number(process.env.BENCH_GET_REQUESTS ?? 100_000);
const LIST_REQUESTS = Number(process.env.BENCH_LIST_REQUESTS ?? 20_000);
const CONCURRENCY = 50;

/** The servers of scripts/test-env: reused when the caller already started them, else started for this run. */
async function testEnv(): Promise<() => Promise<void>> {
  if (process.env.KILN_TEST_DATABASE_URL) return async () => {};
  const env = { ...process.env, KILN_TEST_ENV_CALLER: String(process.pid) };
  const { stdout } = await run('bash', ['scripts/test-env', 'start'], { cwd: REPO_ROOT, env, maxBuffer: 1 << 20 });
  for (const line of stdout.split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line);
    if (m) process.env[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
  return async () => {
    await run('bash', ['scripts/test-env', 'stop'], { cwd: REPO_ROOT, env }).catch(() => {});
  };
}

/** 10,000 versions through the registry's own store (insertVersion, the function uploads end in, then
 * setBuildResult as a finished build does): each has one file, labels, metadata and a contract like an ONNX upload's.
 * No blobs or builds: Get and List never read them. */
async function fill(databaseUrl: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 8 });
  const contract = {
    source: 'onnx',
    signatures: [{
      name: 'CNTKGraph', method: '', tags: [],
      inputs: [{ name: 'Input73', tensor: { dtype: 'DATA_TYPE_FLOAT', shape: { dims: [{ size: 1 }, { size: 1 }, { size: 28 }, { size: 28 }] } } }],
      outputs: [{ name: 'Plus422_Output_0', tensor: { dtype: 'DATA_TYPE_FLOAT', shape: { dims: [{ size: 1 }, { size: 10 }] } } }],
    }],
  };
  const started = Date.now();
  // Versions of one model are numbered under its row lock, so models fill in parallel and versions in order.
  const models = Array.from({ length: MODELS }, (_, i) => `bench-${i}`);
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < models.length) {
      const model = models[next++];
      for (let v = 0; v < VERSIONS; v++) {
        await withTransaction(pool, (tx) => store.insertVersion(tx, {
          model,
          files: [{ path: 'mnist.onnx', size: 27232, sha256: '093c89ce9008f592c4ac5a29bbaa812d46a9e6c190194e2f3080b5e212c40ff2', executable: false }],
          manifest: '',
          labels: { team: 'bench', stage: v % 2 ? 'dev' : 'prod' },
          metadata: { 'onnx.producer_name': 'CNTK', 'onnx.ir_version': '3' },
          contract: contract as never,
          runtime: '',
        }));
        // Released, as a registry's versions mostly are once built (builds are not what this bench measures).
        await store.setBuildResult(pool, model, v + 1, { imageReference: `registry.example/kiln/${model}:${v + 1}`, imageDigest: `sha256:${'0'.repeat(64)}` });
      }
    }
  }));
  await pool.query('ANALYZE');
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM model_versions');
  await pool.end();
  console.log(`filled ${rows[0].n} versions (${MODELS} models x ${VERSIONS}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

interface GhzReport {
  count: number;
  rps: number;
  average: number;
  latencyDistribution: Array<{ percentage: number; latency: number }>;
  statusCodeDistribution: Record<string, number>;
  errorDistribution?: Record<string, number>;
}

async function ghz(ghzBin: string, address: string, method: string, data: string, total: number): Promise<GhzReport> {
  const args = [
    '--insecure', '--proto', 'proto/kiln/v1/registry.proto', '--import-paths', 'proto',
    '--call', `kiln.v1.Registry.${method}`, '-d', data,
    '-c', String(CONCURRENCY), '-n', String(total), '--connections', '4', '--cpus', process.env.BENCH_GHZ_CPUS ?? '1', '--skipFirst', String(Math.min(2000, total / 10)),
    '-O', 'json', address,
  ];
  const { stdout } = await run(ghzBin, args, { cwd: REPO_ROOT, maxBuffer: 64 << 20, timeout: 10 * 60_000 });
  return JSON.parse(stdout) as GhzReport;
}

function summary(name: string, r: GhzReport): string {
  const p = (n: number) => (r.latencyDistribution.find((d) => d.percentage === n)?.latency ?? NaN) / 1e6;
  const errors = Object.entries(r.statusCodeDistribution).filter(([code]) => code !== 'OK');
  return `| ${name} | ${r.count.toLocaleString('en')} | ${Math.round(r.rps).toLocaleString('en')} | ${p(50).toFixed(2)} ms | ${p(99).toFixed(2)} ms | ${errors.length ? errors.map(([c, n]) => `${c} ${n}`).join(', ') : '0'} |`;
}

const stopEnv = await testEnv();
const tools = await sdkTools();
// BENCH_CPU_PROF=DIR writes a V8 CPU profile of the Kiln process there (node --cpu-prof) when it stops.
const nodeArgs = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : undefined;
const kiln = await startKilnProcess({ env: { KILN_LOG_LEVEL: 'warn' }, nodeArgs });
try {
  await fill(kiln.databaseUrl);
  console.log(`ghz: ${CONCURRENCY} concurrent clients on 4 connections against ${kiln.registry} (${os.cpus().length} CPUs: ${os.cpus()[0].model})`);
  const get = await ghz(tools.ghz, kiln.registry, 'GetModelVersion',
    `{"model":"bench-{{randomInt 0 ${MODELS}}}","version":"{{randomInt 1 ${VERSIONS + 1}}}"}`, GET_REQUESTS);
  const list = await ghz(tools.ghz, kiln.registry, 'ListModelVersions',
    `{"model":"bench-{{randomInt 0 ${MODELS}}}","page_size":50}`, LIST_REQUESTS);
  console.log('\n| call | requests | rps | p50 | p99 | errors |\n|---|---|---|---|---|---|');
  console.log(summary('GetModelVersion (one version, 1 file, contract)', get));
  console.log(summary('ListModelVersions (page of 50, with files)', list));
} finally {
  await kiln.stop();
  await stopEnv();
}
