// API load benchmark: Kiln (services/all.ts, as npm start runs it) on the real Postgres and MinIO of scripts/test-env, a registry of
// 10,000 versions and 1,000 aliases, then ghz at 50 concurrent clients against GetModelVersion (by number and by alias)
// and ListModelVersions; and GetModelVersion against a second Kiln on the same database serving TLS with authentication
// on, its rounds interleaved with the first's.
//   npx tsx bench/api.ts            (BENCH_MODELS, BENCH_VERSIONS, BENCH_GET_REQUESTS, BENCH_LIST_REQUESTS, BENCH_ROUNDS, BENCH_RATE override)
import { testEnv } from './helpers/test-env';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { makeCa, makeCert } from '@kiln/api/tls-testing';
import { withTransaction } from '@kiln/metadata';
import * as store from '../services/registry/src/store/postgres/versions';
import * as aliasStore from '../services/registry/src/store/postgres/aliases';
import { REPO_ROOT, sdkTools, startKilnProcess, type KilnProcess } from '../test/helpers/kiln-process';
import { cpuOf, pidsMatching } from '../test/helpers/proc';

const run = promisify(execFile);
const MODELS = Number(process.env.BENCH_MODELS ?? 100);
const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 100);
const GET_REQUESTS = Number(process.env.BENCH_GET_REQUESTS ?? 100_000);
const LIST_REQUESTS = Number(process.env.BENCH_LIST_REQUESTS ?? 20_000);
const CONCURRENCY = 50;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 5500);
/** 10 per model: 1,000 aliases over the 10,000 versions (issue 14's figure). */
const ALIASES_PER_MODEL = 10;
const ADMIN_TOKEN = `kiln_${'b3'.repeat(20)}`;
const SERVICE_TOKEN = `service-${'k7'.repeat(20)}`;

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
  // Aliases through the registry's own store function (as SetModelAlias ends): ALIASES_PER_MODEL per model, each at
  // one of its versions.
  for (const model of models) {
    await withTransaction(pool, async (tx) => {
      for (const [alias, version] of aliasesOf(model)) {
        await aliasStore.putAlias(tx, { model, alias, version, protected: false, updatedBy: 'bench' },
          { model, alias, fromVersion: 0, toVersion: version, caller: 'bench', reason: '', breaking: false, protected: false });
      }
    });
  }
  await pool.query('ANALYZE');
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM model_versions');
  await pool.end();
  console.log(`filled ${rows[0].n} versions (${MODELS} models x ${VERSIONS}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** A model's aliases and the versions they point at: `a0`..`a9`, spread over its versions. */
function aliasesOf(model: string): Array<[string, number]> {
  return Array.from({ length: ALIASES_PER_MODEL }, (_, i) => [`a${i}`, 1 + ((i * 7 + model.length) % VERSIONS)]);
}

interface GhzReport {
  count: number;
  rps: number;
  average: number;
  latencyDistribution: Array<{ percentage: number; latency: number }>;
  statusCodeDistribution: Record<string, number>;
  errorDistribution?: Record<string, number>;
}

interface Measured {
  report: GhzReport;
  /** CPU seconds per 1,000 requests: Kiln, ghz, Postgres (all its backends). */
  cpuPerK: { kiln: number; ghz: number; postgres: number };
}

/** CPU seconds of every Postgres process on the machine (the test env's is the only one: postmaster and backends). */
async function postgresCpu(): Promise<number> {
  let total = 0;
  for (const pid of await pidsMatching('postgres')) total += await cpuOf(pid).catch(() => 0);
  return total;
}

/** Requests in a shuffled order (seeded, so every run asks the same sequence), written where ghz reads them: ghz
 * sends a JSON array's messages round-robin and decodes each once, where a template ({{randomInt}}) would be run and
 * parsed again for every request, costing the load generator more CPU than the server spends answering. */
async function requestsFile(dir: string, name: string, requests: object[]): Promise<string> {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = requests.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [requests[i], requests[j]] = [requests[j], requests[i]];
  }
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(requests));
  return file;
}

/** A Kiln as ghz reaches it: its registry's address, its pid, and ghz's transport flags. */
interface Target {
  address: string;
  pid: number;
  flags: string[];
}

async function ghz(ghzBin: string, target: Target, method: string, dataFile: string, total: number, skipFirst = Math.min(2000, total / 10), rps = 0): Promise<Measured> {
  const args = [
    '-f', '%U %S', ghzBin,
    ...target.flags, '--proto', 'proto/kiln/v1/registry.proto', '--import-paths', 'proto',
    '--call', `kiln.v1.Registry.${method}`, '--data-file', dataFile,
    // No templates in the data: ghz then skips building a template (with its ~100 functions) for every request.
    '--disable-template-functions', '--disable-template-data',
    '-c', String(CONCURRENCY), '-n', String(total), '--connections', '4', '--cpus', process.env.BENCH_GHZ_CPUS ?? '1', '--skipFirst', String(skipFirst),
    ...(rps ? ['--rps', String(rps)] : []),
    '-O', 'json', target.address,
  ];
  const kiln0 = await cpuOf(target.pid);
  const pg0 = await postgresCpu();
  // /usr/bin/time reports ghz's own CPU on stderr (its last line).
  const { stdout, stderr } = await run('/usr/bin/time', args, { cwd: REPO_ROOT, maxBuffer: 64 << 20, timeout: 10 * 60_000 });
  const kiln = (await cpuOf(target.pid)) - kiln0;
  const postgres = (await postgresCpu()) - pg0;
  const [user, sys] = stderr.trim().split('\n').pop()!.split(' ').map(Number);
  const k = total / 1000;
  return { report: JSON.parse(stdout) as GhzReport, cpuPerK: { kiln: kiln / k, ghz: (user + sys) / k, postgres: postgres / k } };
}

function summary(name: string, { report: r, cpuPerK }: Measured): string {
  const p = (n: number) => (r.latencyDistribution.find((d) => d.percentage === n)?.latency ?? NaN) / 1e6;
  const errors = Object.entries(r.statusCodeDistribution).filter(([code]) => code !== 'OK');
  return `| ${name} | ${r.count.toLocaleString('en')} | ${Math.round(r.rps).toLocaleString('en')} | ${p(50).toFixed(2)} ms | ${p(99).toFixed(2)} ms | ${errors.length ? errors.map(([c, n]) => `${c} ${n}`).join(', ') : '0'} | ${cpuPerK.kiln.toFixed(3)} / ${cpuPerK.ghz.toFixed(3)} / ${cpuPerK.postgres.toFixed(3)} |`;
}

const stopEnv = await testEnv();
const tools = await sdkTools();
// BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' (or any node flags) runs the Kiln processes as node FLAGS.
const nodeArgs = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : undefined;
const tmp = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-api-'));
const kiln = await startKilnProcess({ env: { KILN_LOG_LEVEL: 'warn' }, nodeArgs });
let secured: KilnProcess | undefined;
try {
  // The same registry with TLS and authentication on: a replica on the same database, so both serve the same versions.
  const ca = makeCa(tmp, 'ca');
  const cert = makeCert(tmp, ca, 'kiln', 'localhost');
  secured = await startKilnProcess({
    env: { KILN_LOG_LEVEL: 'warn', KILN_TLS_CERT: cert.cert, KILN_TLS_KEY: cert.key, KILN_TLS_CA: ca.cert, KILN_ADMIN_TOKEN: ADMIN_TOKEN, KILN_SERVICE_TOKEN: SERVICE_TOKEN },
    nodeArgs,
    databaseUrl: kiln.databaseUrl,
    tls: { ca: ca.cert },
  });
  await fill(kiln.databaseUrl);
  const plain: Target = { address: kiln.registry, pid: kiln.pid, flags: ['--insecure'] };
  // ghz opens its 4 connections once per run (4 TLS handshakes a round); every call carries the token.
  const auth: Target = { address: secured.registry, pid: secured.pid, flags: ['--cacert', ca.cert, '--metadata', JSON.stringify({ authorization: `Bearer ${ADMIN_TOKEN}` })] };
  console.log(`ghz: ${CONCURRENCY} concurrent clients on 4 connections against ${kiln.registry}, and ${secured.registry} with TLS and a token (${os.cpus().length} CPUs: ${os.cpus()[0].model})`);
  const models = Array.from({ length: MODELS }, (_, m) => `bench-${m}`);
  // Every version once per round, in a shuffled order; List asks each model for its newest 50.
  const gets = await requestsFile(tmp, 'get', models.flatMap((model) => Array.from({ length: VERSIONS }, (_, v) => ({ model, version: v + 1 }))));
  const lists = await requestsFile(tmp, 'list', models.map((model) => ({ model, pageSize: 50 })));
  // Cold: every version asked once, each a cache miss read from Postgres. Warm: the same sequence again, round after
  // round, as a registry's readers see it once the versions they use were read. Each process has its own cache, so
  // each has its cold pass.
  const cold = await ghz(tools.ghz, plain, 'GetModelVersion', gets, MODELS * VERSIONS, 0);
  const authCold = await ghz(tools.ghz, auth, 'GetModelVersion', gets, MODELS * VERSIONS, 0);
  const warm: Measured[] = [];
  const authWarm: Measured[] = [];
  // Interleaved, first one then the other first, so that both see the same machine load and neither always leads.
  for (let round = 0; round < ROUNDS; round++) {
    const runs: Array<[Target, Measured[]]> = [[plain, warm], [auth, authWarm]];
    for (const [target, into] of round % 2 ? runs.reverse() : runs) into.push(await ghz(tools.ghz, target, 'GetModelVersion', gets, GET_REQUESTS));
  }
  // The goal's load and a margin: 5,500 requests a second offered (open loop, from the same 50 clients; ghz's
  // limiter delivers a few percent less), where the rounds above offer as many as Kiln answers (closed loop), so
  // their latency includes the queue that saturation builds.
  const atRate = await ghz(tools.ghz, plain, 'GetModelVersion', gets, RATE * 12, 2000, RATE);
  const authAtRate = await ghz(tools.ghz, auth, 'GetModelVersion', gets, RATE * 12, 2000, RATE);
  const list = await ghz(tools.ghz, plain, 'ListModelVersions', lists, LIST_REQUESTS);

  // By alias against by number, for the same 1,000 versions (the aliases' own), interleaved on the plaintext registry.
  const aliased = models.flatMap((model) => aliasesOf(model).map(([alias, version]) => ({ model, alias, version })));
  const byAlias = await requestsFile(tmp, 'by-alias', aliased.map(({ model, alias }) => ({ model, alias })));
  const byNumber = await requestsFile(tmp, 'by-number', aliased.map(({ model, version }) => ({ model, version })));
  // The aliases' first reads (from Postgres), then a warm-up of both sequences, so that no measured round pays for the
  // collection of what a cold pass left.
  await ghz(tools.ghz, plain, 'GetModelVersion', byAlias, aliased.length, 0);
  for (const file of [byAlias, byNumber]) await ghz(tools.ghz, plain, 'GetModelVersion', file, GET_REQUESTS / 4, 0);
  const aliasWarm: Measured[] = [];
  const numberWarm: Measured[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const runs: Array<[string, Measured[]]> = [[byAlias, aliasWarm], [byNumber, numberWarm]];
    for (const [file, into] of round % 2 ? runs.reverse() : runs) into.push(await ghz(tools.ghz, plain, 'GetModelVersion', file, GET_REQUESTS));
  }

  // The round with the median p99 stands for the run (rounds differ mostly by where the collector's pauses fall).
  const p99 = (m: Measured) => (m.report.latencyDistribution.find((d) => d.percentage === 99)?.latency ?? Infinity) / 1e6;
  const median = (rounds: Measured[]) => [...rounds].sort((x, y) => p99(x) - p99(y))[Math.floor(rounds.length / 2)];
  console.log('\n| call | requests | rps | p50 | p99 | errors | CPU s per 1,000 calls: Kiln / ghz / Postgres |\n|---|---|---|---|---|---|---|');
  console.log(summary('GetModelVersion, cold (each version read once, from Postgres)', cold));
  console.log(summary('GetModelVersion, TLS + token, cold', authCold));
  warm.forEach((m, i) => {
    console.log(summary(`GetModelVersion, warm, round ${i + 1}`, m));
    console.log(summary(`GetModelVersion, TLS + token, warm, round ${i + 1}`, authWarm[i]));
  });
  console.log(summary(`**GetModelVersion, warm, median round of ${ROUNDS} (by p99)**`, median(warm)));
  console.log(summary(`**GetModelVersion, TLS + token, warm, median round of ${ROUNDS} (by p99)**`, median(authWarm)));
  console.log(summary(`GetModelVersion, warm, ${RATE.toLocaleString('en')} requests/s offered`, atRate));
  console.log(summary(`GetModelVersion, TLS + token, warm, ${RATE.toLocaleString('en')} requests/s offered`, authAtRate));
  console.log(summary('ListModelVersions (page of 50, with files)', list));
  aliasWarm.forEach((m, i) => {
    console.log(summary(`GetModelVersion by alias (1,000 aliases), warm, round ${i + 1}`, m));
    console.log(summary(`GetModelVersion by number (the same versions), warm, round ${i + 1}`, numberWarm[i]));
  });

  // Issue 13's bar: auth costs under 15 % of throughput at 50 concurrent clients, with p99 under 10 ms.
  const meanRps = (rounds: Measured[]) => rounds.reduce((sum, m) => sum + m.report.rps, 0) / rounds.length;
  const ratio = meanRps(authWarm) / meanRps(warm);
  const perRound = warm.map((m, i) => (authWarm[i].report.rps / m.report.rps).toFixed(3)).join(', ');
  const authP99 = p99(median(authWarm));
  console.log(`\nTLS + token / plaintext, warm: throughput ${ratio.toFixed(3)} (rounds: ${perRound}); p99 of the median round ${p99(median(warm)).toFixed(2)} ms plaintext, ${authP99.toFixed(2)} ms with TLS + token`);
  console.log(`at ${RATE.toLocaleString('en')} requests/s offered: p99 ${p99(atRate).toFixed(2)} ms plaintext, ${p99(authAtRate).toFixed(2)} ms with TLS + token`);
  const verdict = (ok: boolean) => (ok ? 'holds' : 'fails');
  console.log(`bar at 50 clients: throughput ratio >= 0.85 ${verdict(ratio >= 0.85)}; p99 < 10 ms with TLS + token ${verdict(authP99 < 10)}`);
  // Issue 14's bar: alias resolution costs at most 10 %.
  const aliasRatio = meanRps(aliasWarm) / meanRps(numberWarm);
  const aliasRounds = aliasWarm.map((m, i) => (m.report.rps / numberWarm[i].report.rps).toFixed(3)).join(', ');
  console.log(`by alias / by number, warm: throughput ${aliasRatio.toFixed(3)} (rounds: ${aliasRounds}); p99 of the median round ${p99(median(aliasWarm)).toFixed(2)} ms by alias, ${p99(median(numberWarm)).toFixed(2)} ms by number; bar (>= 0.90) ${verdict(aliasRatio >= 0.9)}`);
} finally {
  // The replica first: the first process's stop drops the database they share. The certificates once both are down.
  await secured?.stop();
  await kiln.stop();
  await rm(tmp, { recursive: true, force: true });
  await stopEnv();
}
