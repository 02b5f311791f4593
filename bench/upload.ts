// bench/upload: a 1 GiB model uploaded through Kiln (client → registry → MinIO) against a direct multipart upload of
// the same bytes to the same MinIO with the AWS SDK, same run; prints the time ratio and the registry's peak RSS,
// then checks the registry's RSS over a 4 GiB upload. Needs the servers from scripts/test-env (started here).
//   npx tsx bench/upload.ts            (BENCH_GIB=1 BENCH_RUNS=3 BENCH_RSS_GIB=4 by default; BENCH_RSS_GIB=0 skips the 4 GiB)
// Each run also prints the CPU seconds the client (this process), the registry and MinIO used: on a small machine the
// three share the cores, so the busiest one bounds the speed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { registryClient } from '@kiln/api';
import { ENV_SCHEMA } from '@kiln/config';
import { upload, uploadSource } from '../cli/src/upload';
import { withServiceEnv } from '../scripts/service-env';
import { emptyS3Prefix, freePort, freshDatabase } from '../test/helpers/test-config';
import { cpuOf, peakMemory, pidsMatching, rssOf } from '../test/helpers/proc';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
// The registry's default part size (BENCH_PART_MIB overrides it), the reference uses the same.
// Parts in flight: the registry's default (KILN_S3_PARTS_IN_FLIGHT overrides it for both sides).
const IN_FLIGHT = ENV_SCHEMA.shape.KILN_S3_PARTS_IN_FLIGHT.parse(process.env.KILN_S3_PARTS_IN_FLIGHT);
const PART = process.env.BENCH_PART_MIB ? Number(process.env.BENCH_PART_MIB) * MiB : ENV_SCHEMA.shape.KILN_S3_PART_SIZE.parse(undefined);

function loadTestEnv(): void {
  const exports = execFileSync('bash', [path.join(root, 'scripts/test-env'), 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of exports.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) process.env[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
}

async function writeModel(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file);
  const block = randomBytes(MiB);
  for (let i = 0; i < bytes / MiB; i++) {
    block.writeUInt32LE(i, 0);
    if (!out.write(Buffer.from(block))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

/** The MinIO serving `endpoint` (its --address), to count its CPU too. */
async function minioPid(endpoint: string): Promise<number | undefined> {
  return (await pidsMatching('minio', `:${new URL(endpoint).port}\0`))[0];
}

/** CPU seconds used by this process (the client side), the registry and MinIO while `fn` runs. */
async function measured<T>(pids: { registry: number; minio?: number }, fn: () => Promise<T>) {
  const cpu0 = process.cpuUsage();
  const reg0 = await cpuOf(pids.registry);
  const minio0 = pids.minio ? await cpuOf(pids.minio) : 0;
  const t = performance.now();
  const value = await fn();
  const ms = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  return {
    value,
    ms,
    cpu: {
      client: (cpu.user + cpu.system) / 1e6,
      registry: (await cpuOf(pids.registry)) - reg0,
      minio: pids.minio ? (await cpuOf(pids.minio)) - minio0 : NaN,
    },
  };
}

function startService(entry: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = []): ChildProcess {
  // As npm start runs services (scripts/service.mjs, its environment from scripts/service-env.ts; BENCH_SERVICE_ENV=0
  // leaves that out), and node itself, so that the pid is the service's process.
  return spawn(process.execPath, [...nodeArgs, path.join(root, 'scripts/service.mjs'), path.join(root, entry)], { cwd: root, env: process.env.BENCH_SERVICE_ENV === '0' ? env : withServiceEnv(env), stdio: ['ignore', nodeArgs.length ? 'inherit' : 'ignore', 'inherit'] });
}

async function waitServing(address: string): Promise<void> {
  const client = registryClient(address);
  const deadline = Date.now() + 60_000;
  await new Promise<void>((resolve, reject) =>
    client.waitForReady(deadline, (err) => (err ? reject(err) : resolve())),
  );
  client.close();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main(): Promise<void> {
  const gib = Number(process.env.BENCH_GIB ?? 1);
  const rssGib = Number(process.env.BENCH_RSS_GIB ?? 4);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  loadTestEnv();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-upload-'));
  const [registryPort, inferencePort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KILN_DATA_DIR: dir,
    DATABASE_URL: (await freshDatabase()).url,
    KILN_S3_BUCKET: process.env.KILN_TEST_S3_BUCKET,
    KILN_S3_ENDPOINT: process.env.KILN_TEST_S3_ENDPOINT,
    KILN_S3_REGION: process.env.KILN_TEST_S3_REGION,
    KILN_S3_ACCESS_KEY_ID: process.env.KILN_TEST_S3_ACCESS_KEY,
    KILN_S3_SECRET_ACCESS_KEY: process.env.KILN_TEST_S3_SECRET_KEY,
    KILN_S3_PREFIX: `bench-${Date.now()}/`,
    KILN_S3_PART_SIZE: String(PART),
    KILN_REGISTRY_LISTEN: `127.0.0.1:${registryPort}`,
    KILN_INFERENCE_LISTEN: `127.0.0.1:${inferencePort}`,
    // No builder runs in this benchmark: builds wait in the queue, the upload path alone is measured.
    KILN_BUILDER_ADDRESS: '127.0.0.1:9',
    KILN_LOG_LEVEL: 'error',
  };
  const inference = startService('services/inference/src/main.ts', env);
  // BENCH_PROFILE=<folder>: the registry writes a V8 CPU profile there when it exits.
  // BENCH_REGISTRY_ARGS: extra node flags for the registry (e.g. --trace-gc).
  const registry = startService('services/registry/src/main.ts', env, [
    ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_PROFILE)}`] : []),
    ...(process.env.BENCH_REGISTRY_ARGS?.split(' ').filter(Boolean) ?? []),
  ]);
  const s3 = new S3Client({
    endpoint: process.env.KILN_TEST_S3_ENDPOINT,
    region: process.env.KILN_TEST_S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.KILN_TEST_S3_ACCESS_KEY!, secretAccessKey: process.env.KILN_TEST_S3_SECRET_KEY! },
  });
  try {
    await waitServing(env.KILN_REGISTRY_LISTEN!);
    const client = registryClient(env.KILN_REGISTRY_LISTEN!);
    const model = path.join(dir, 'weights.bin');
    await writeModel(model, gib * GiB);

    const pids = { registry: registry.pid!, minio: await minioPid(process.env.KILN_TEST_S3_ENDPOINT!) };
    const fmtCpu = (c: { client: number; registry: number; minio: number }) =>
      `CPU s: client ${c.client.toFixed(1)}, registry ${c.registry.toFixed(1)}, MinIO ${c.minio.toFixed(1)}`;
    const before = await rssOf(registry.pid!);
    let peak = { rss: before.rss, anon: before.anon };
    const directMs: number[] = [];
    const kilnMs: number[] = [];
    let version = 0;
    // Alternating runs, medians reported: the machine is shared, and its load shifts between runs.
    for (let run = 0; run < runs; run++) {
      // Reference: the same bytes straight to MinIO, multipart, same part size and queue, SDK defaults otherwise.
      const direct = await measured(pids, async () => {
        const up = new Upload({ client: s3, params: { Bucket: process.env.KILN_TEST_S3_BUCKET, Key: `bench-direct-${Date.now()}`, Body: createReadStream(model, { highWaterMark: MiB }) }, partSize: PART, queueSize: IN_FLIGHT });
        return up.done();
      });
      await s3.send(new DeleteObjectCommand({ Bucket: process.env.KILN_TEST_S3_BUCKET, Key: (direct.value as { Key?: string }).Key }));
      directMs.push(direct.ms);

      const sampler = peakMemory(registry.pid!, peak);
      const kiln = await measured(pids, async () => upload(client, await uploadSource(model), { header: { model: 'bench' } }));
      peak = sampler.stop();
      kilnMs.push(kiln.ms);
      version = kiln.value.version;
      console.log(`  run ${run + 1}: direct ${(direct.ms / 1000).toFixed(2)} s (${fmtCpu(direct.cpu)}); Kiln ${(kiln.ms / 1000).toFixed(2)} s (${fmtCpu(kiln.cpu)}); load ${os.loadavg()[0].toFixed(1)}`);
    }
    const hwm = (await rssOf(registry.pid!)).hwm;
    const d = median(directMs);
    const k = median(kilnMs);
    console.log(`upload ${gib} GiB (median of ${runs}):`);
    console.log(`  direct AWS SDK multipart to MinIO: ${(d / 1000).toFixed(2)} s (${((gib * 1024) / (d / 1000)).toFixed(0)} MiB/s)`);
    console.log(`  through Kiln (gRPC → registry → MinIO): ${(k / 1000).toFixed(2)} s (${((gib * 1024) / (k / 1000)).toFixed(0)} MiB/s), version ${version}`);
    console.log(`  ratio Kiln / direct: ${(k / d).toFixed(2)}x`);
    console.log(`  registry RSS: ${(before.rss / MiB).toFixed(0)} MiB before, ${(peak.rss / MiB).toFixed(0)} MiB peak while uploading (VmHWM ${(hwm / MiB).toFixed(0)} MiB); private (RssAnon) ${(before.anon / MiB).toFixed(0)} MiB before, ${(peak.anon / MiB).toFixed(0)} MiB peak`);

    if (rssGib > 0) {
      await rm(model);
      await emptyS3Prefix(env.KILN_S3_PREFIX!);
      const big = path.join(dir, 'big.bin');
      await writeModel(big, rssGib * GiB);
      const sampler = peakMemory(registry.pid!);
      const t = performance.now();
      await upload(client, await uploadSource(big), { header: { model: 'bench-big' } });
      const bigMs = performance.now() - t;
      const bigPeak = sampler.stop();
      console.log(`upload ${rssGib} GiB through Kiln: ${(bigMs / 1000).toFixed(1)} s; registry peak RSS ${(bigPeak.rss / MiB).toFixed(0)} MiB (VmHWM ${((await rssOf(registry.pid!)).hwm / MiB).toFixed(0)} MiB), private ${(bigPeak.anon / MiB).toFixed(0)} MiB`);
    }
    client.close();
  } finally {
    const exited = new Promise((resolve) => registry.once('exit', resolve));
    registry.kill('SIGTERM');
    inference.kill('SIGTERM');
    await exited;
    await emptyS3Prefix(env.KILN_S3_PREFIX!).catch((err) => console.error('could not empty the bench prefix:', err));
    s3.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
