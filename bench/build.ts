// bench/build: a model with a 1 GiB weight file and a few small files built into an image in the test registry:
// Kiln's daemonless build (files from MinIO) against `docker build` + `docker push` of the same files on the same
// base, same engine, same registry, same run; then a rebuild with one small file changed. Needs the servers of
// scripts/test-env (started here when KILN_TEST_REGISTRY is not set).
//   npx tsx bench/build.ts            (BENCH_WEIGHT_MIB=1024 by default)
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Timestamp__Output } from '@kiln/api/generated/google/protobuf/Timestamp';
import { requireEnv, startKiln, uploadModel, waitForBuild, type UploadFile } from '../test/helpers/services';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 1024 ** 2;
const WEIGHT_MIB = Number(process.env.BENCH_WEIGHT_MIB ?? 1024);

let startedTestEnv = false;
if (!process.env.KILN_TEST_REGISTRY) {
  const exports = execFileSync('bash', [path.join(root, 'scripts/test-env'), 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of exports.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) process.env[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
  startedTestEnv = true;
}
const env = requireEnv('KILN_TEST_REGISTRY', 'KILN_TEST_DOCKER_HOST', 'KILN_TEST_BASE_IMAGE');

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const tsMs = (t: Timestamp__Output | null) => (t ? Number(t.seconds) * 1000 + t.nanos / 1e6 : NaN);

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

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-bench-build-'));
const kiln = await startKiln();
try {
  // The model on disk, laid out for docker build: the context holds weights/ and small/, copied to /model in two
  // steps (the big file first, in a layer of its own, so docker's layer cache can keep it on the rebuild).
  const weights = path.join(dir, 'weights');
  const smallDir = path.join(dir, 'small');
  await fs.mkdir(path.join(smallDir, 'tokenizer'), { recursive: true });
  await fs.mkdir(weights, { recursive: true });
  process.stderr.write(`writing a ${WEIGHT_MIB} MiB weight file...\n`);
  await writeRandom(path.join(weights, 'weights.bin'), WEIGHT_MIB);
  const small: Record<string, string> = {
    'config.json': '{"hidden": 4096, "layers": 32}\n',
    'tokenizer/vocab.txt': Array.from({ length: 5000 }, (_, i) => `token${i}`).join('\n'),
    'tokenizer/merges.txt': Array.from({ length: 2000 }, (_, i) => `a${i} b${i}`).join('\n'),
    'README.md': '# bench model\n',
  };
  for (const [p, c] of Object.entries(small)) await fs.writeFile(path.join(smallDir, p), c);
  const files = (): UploadFile[] => [
    { path: 'weights.bin', file: path.join(weights, 'weights.bin') },
    ...Object.keys(small).map((p) => ({ path: p, file: path.join(smallDir, p) })),
  ];
  const manifest = `runtime: ${env.KILN_TEST_BASE_IMAGE}\n`;

  // Docker: the base pulled before timing (Kiln reads only the base's manifest and config, and mounts its layers).
  docker('pull', '-q', env.KILN_TEST_BASE_IMAGE);
  await fs.writeFile(path.join(dir, 'Dockerfile'), `FROM ${env.KILN_TEST_BASE_IMAGE}\nCOPY weights/ /model/\nCOPY small/ /model/\n`);
  const dockerRef = `${env.KILN_TEST_REGISTRY}/${kiln.config.images.prefix}-docker/bench:`;

  process.stderr.write('uploading to Kiln (not timed)...\n');
  const v1 = await uploadModel(kiln.client, 'bench', files(), { manifest });
  const b1 = await waitForBuild(kiln.client, 'bench', v1.version, { timeoutMs: 600_000 });
  if (b1.version.status !== 'MODEL_VERSION_STATUS_RELEASED') throw new Error(`kiln build failed: ${b1.version.failureReason}`);
  const kiln1 = tsMs(b1.version.buildEndTime) - tsMs(b1.version.buildStartTime);

  process.stderr.write('docker build + push...\n');
  const dBuild1 = docker('build', '-q', '-t', `${dockerRef}1`, dir);
  const dPush1 = docker('push', '-q', `${dockerRef}1`);

  // The rebuild: one small file changed.
  await fs.writeFile(path.join(smallDir, 'config.json'), '{"hidden": 4096, "layers": 33}\n');
  const v2 = await uploadModel(kiln.client, 'bench', files(), { manifest });
  const b2 = await waitForBuild(kiln.client, 'bench', v2.version, { timeoutMs: 600_000 });
  if (b2.version.status !== 'MODEL_VERSION_STATUS_RELEASED') throw new Error(`kiln rebuild failed: ${b2.version.failureReason}`);
  const kiln2 = tsMs(b2.version.buildEndTime) - tsMs(b2.version.buildStartTime);
  const dBuild2 = docker('build', '-q', '-t', `${dockerRef}2`, dir);
  const dPush2 = docker('push', '-q', `${dockerRef}2`);

  const pushedLine = (log: string[]) => log.filter((l) => /^(layer .*pushed while hashing|image |pushed )/.test(l)).join('; ');
  const rows = [
    ['first build', kiln1, dBuild1, dPush1],
    ['rebuild, one small file changed', kiln2, dBuild2, dPush2],
  ] as const;
  console.log(`\n${WEIGHT_MIB} MiB weight file + ${Object.keys(small).length} small files, base ${env.KILN_TEST_BASE_IMAGE}`);
  console.log('| build | Kiln daemonless | docker build | docker push | docker total | ratio |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, k, b, p] of rows) console.log(`| ${name} | ${seconds(k)} | ${seconds(b)} | ${seconds(p)} | ${seconds(b + p)} | ${((b + p) / k).toFixed(1)}x |`);
  console.log(`\nKiln v1: ${pushedLine(b1.log)}\nKiln v2: ${pushedLine(b2.log)}`);
  console.log(`Kiln images: ${b1.version.imageReference} ${b1.version.imageDigest}, ${b2.version.imageReference} ${b2.version.imageDigest}`);
  docker('rmi', `${dockerRef}1`, `${dockerRef}2`);
} finally {
  await kiln.stop();
  await fs.rm(dir, { recursive: true, force: true });
  if (startedTestEnv) spawnSync('bash', [path.join(root, 'scripts/test-env'), 'stop'], { stdio: 'ignore' });
}
