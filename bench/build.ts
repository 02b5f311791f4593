// bench/build: a model with a 1 GiB weight file and a few small files built into an image: Kiln's daemonless build
// (files from MinIO, through the services) against `docker build` + `docker push` of the same files on the same
// base, with the same Docker engine, to the same registry, in the same run; then a rebuild with one small file
// changed. Rounds alternate Kiln and docker on fresh random weights; medians are printed with every round.
// Needs the servers of scripts/test-env (started here when KILN_TEST_DOCKER_HOST is not set).
//   npx tsx bench/build.ts            (BENCH_WEIGHT_MIB=1024 BENCH_ROUNDS=3 by default)
//
// Images go to a Distribution registry (the same `docker-registry` the test registry runs) started by the bench
// on a temp dir, removed at the end: each round pushes over 2 GiB, which a running registry cannot give back.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { timestampMs as tsMs } from '@kiln/api/timestamp';
import { startKiln, uploadModel, waitForBuild, type UploadFile } from '../test/helpers/services';
import { requireEnv } from '../test/helpers/test-config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 1024 ** 2;
const WEIGHT_MIB = Number(process.env.BENCH_WEIGHT_MIB ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

let startedTestEnv = false;
if (!process.env.KILN_TEST_DOCKER_HOST) {
  const exports = execFileSync('bash', [path.join(root, 'scripts/test-env'), 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of exports.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) process.env[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
  startedTestEnv = true;
}
const env = requireEnv('KILN_TEST_DOCKER_HOST', 'KILN_TEST_BASE_IMAGE');

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function docker(...args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync('docker', ['-H', env.KILN_TEST_DOCKER_HOST, ...args], { encoding: 'utf8', maxBuffer: 64 * MiB, env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return performance.now() - t0;
}

async function writeRandom(file: string, mib: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < mib; i++) if (!out.write(randomBytes(MiB))) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((r) => out.end(() => r()));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A Distribution registry on loopback (plain HTTP: Docker and Kiln both allow it for 127.0.0.1). */
async function startRegistry(dir: string): Promise<{ host: string; stop(): void }> {
  const host = `127.0.0.1:${await freePort()}`;
  const config = path.join(dir, 'registry.yml');
  await fs.writeFile(config, `version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: ${path.join(dir, 'registry')}}}\nhttp: {addr: ${host}, secret: bench}\n`);
  const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    const up = await fetch(`http://${host}/v2/`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 100) throw new Error('docker-registry did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host, stop: () => child.kill() };
}

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-bench-build-'));
const registry = await startRegistry(dir);
const kiln = await startKiln({ env: { KILN_IMAGE_REGISTRY: registry.host } });
try {
  // The model on disk, laid out for docker build: the context holds weights/ and small/, copied to /model in two
  // steps (the big file first, in a layer of its own, so docker's layer cache can keep it on the rebuild).
  const context = path.join(dir, 'context');
  const weights = path.join(context, 'weights');
  const smallDir = path.join(context, 'small');
  await fs.mkdir(path.join(smallDir, 'tokenizer'), { recursive: true });
  await fs.mkdir(weights, { recursive: true });
  const small: Record<string, string> = {
    'config.json': '{"hidden": 4096, "layers": 32}\n',
    'tokenizer/vocab.txt': Array.from({ length: 5000 }, (_, i) => `token${i}`).join('\n'),
    'tokenizer/merges.txt': Array.from({ length: 2000 }, (_, i) => `a${i} b${i}`).join('\n'),
    'README.md': '# bench model\n',
  };
  const files = (): UploadFile[] => [
    { path: 'weights.bin', file: path.join(weights, 'weights.bin') },
    ...Object.keys(small).map((p) => ({ path: p, file: path.join(smallDir, p) })),
  ];
  const manifest = `runtime: ${env.KILN_TEST_BASE_IMAGE}\n`;
  // The base is pulled before timing: Kiln reads only the base's manifest and config.
  docker('pull', '-q', env.KILN_TEST_BASE_IMAGE);
  await fs.writeFile(path.join(context, 'Dockerfile'), `FROM ${env.KILN_TEST_BASE_IMAGE}\nCOPY weights/ /model/\nCOPY small/ /model/\n`);
  const dockerRepo = `${registry.host}/docker/bench`;

  /** Writes dirty pages out (sync(1)) before a timed step. */
  const settle = () => void execFileSync('sync');
  const kilnBuild = async () => {
    const v = await uploadModel(kiln.client, 'bench', files(), { manifest });
    const b = await waitForBuild(kiln.client, 'bench', v.version, { timeoutMs: 600_000 });
    if (b.version.status !== 'MODEL_VERSION_STATUS_RELEASED') throw new Error(`kiln build failed: ${b.version.failureReason}`);
    // The registry's own build start and end: the builder's work, without the queue's pick-up delay.
    return { ms: tsMs(b.version.buildEndTime) - tsMs(b.version.buildStartTime), log: b.log };
  };
  const dockerBuild = (tag: string) => {
    const build = docker('build', '-q', '-t', `${dockerRepo}:${tag}`, context);
    const push = docker('push', '-q', `${dockerRepo}:${tag}`);
    return { build, push, total: build + push };
  };

  type Round = { kiln: number; docker: { build: number; push: number; total: number } };
  const first: Round[] = [];
  const rebuild: Round[] = [];
  let lastLogs: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    process.stderr.write(`round ${round}/${ROUNDS}: writing ${WEIGHT_MIB} MiB of fresh weights...\n`);
    await writeRandom(path.join(weights, 'weights.bin'), WEIGHT_MIB);
    for (const [p, c] of Object.entries(small)) await fs.writeFile(path.join(smallDir, p), c);
    // Alternate who goes first, so neither always meets a cold or a warm page cache.
    const kilnFirst = round % 2 === 1;
    let k1: Awaited<ReturnType<typeof kilnBuild>>;
    let d1: ReturnType<typeof dockerBuild>;
    // Each side starts with no dirty pages left by the other or by the weights just written, so neither pays for
    // writeback it did not cause.
    if (kilnFirst) {
      settle();
      k1 = await kilnBuild();
      settle();
      d1 = dockerBuild(`${round}-1`);
    } else {
      settle();
      d1 = dockerBuild(`${round}-1`);
      settle();
      k1 = await kilnBuild();
    }
    first.push({ kiln: k1.ms, docker: d1 });

    await fs.writeFile(path.join(smallDir, 'config.json'), `{"hidden": 4096, "layers": ${32 + round}}\n`);
    settle();
    const k2 = await kilnBuild();
    settle();
    const d2 = dockerBuild(`${round}-2`);
    rebuild.push({ kiln: k2.ms, docker: d2 });
    lastLogs = [...k1.log.filter((l) => /pushed while hashing/.test(l)), ...k2.log.filter((l) => /^pushed /.test(l))];
    docker('rmi', `${dockerRepo}:${round}-1`, `${dockerRepo}:${round}-2`);
  }

  console.log(`\n${WEIGHT_MIB} MiB weight file + ${Object.keys(small).length} small files, base ${env.KILN_TEST_BASE_IMAGE}, ${ROUNDS} rounds`);
  console.log('| build | Kiln daemonless | docker build | docker push | docker build + push | ratio |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, rows] of [['first build', first], ['rebuild, one small file changed', rebuild]] as const) {
    for (const [i, r] of rows.entries()) {
      console.log(`| ${name}, round ${i + 1} | ${seconds(r.kiln)} | ${seconds(r.docker.build)} | ${seconds(r.docker.push)} | ${seconds(r.docker.total)} | ${(r.docker.total / r.kiln).toFixed(1)}x |`);
    }
    const k = median(rows.map((r) => r.kiln));
    const d = median(rows.map((r) => r.docker.total));
    console.log(`| **${name}, median** | **${seconds(k)}** | ${seconds(median(rows.map((r) => r.docker.build)))} | ${seconds(median(rows.map((r) => r.docker.push)))} | **${seconds(d)}** | **${(d / k).toFixed(1)}x** |`);
  }
  console.log(`\nKiln, last round: ${lastLogs.join('; ')}`);
} finally {
  await kiln.stop();
  registry.stop();
  await fs.rm(dir, { recursive: true, force: true });
  if (startedTestEnv) spawnSync('bash', [path.join(root, 'scripts/test-env'), 'stop'], { stdio: 'ignore' });
}
