// Test helper: Kiln as a real subprocess (`node scripts/service.mjs services/all.ts`, what `npm start` runs) on free loopback ports,
// against a fresh Postgres database and a fresh MinIO prefix from scripts/test-env, ready once every service's
// grpc.health.v1 check answers SERVING; and scripts/sdk-env's tools (venv python, grpcurl, ghz, Go).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ClientTlsSettings } from '@kiln/api/tls';
import { checkHealth } from '@kiln/api/health-client';

import { withServiceEnv } from '../../scripts/service-env';
import { UNHANDLED_REJECTION } from '../../services/run';
import { emptyS3Prefix, freePort, freshDatabase, testS3Env } from './test-config';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

export interface SdkTools {
  python: string;
  grpcurl: string;
  ghz: string;
  go: string;
  goPluginsBin: string;
}

let tools: Promise<SdkTools> | undefined;
/** Runs scripts/sdk-env (installs on the first run, then returns at once) and returns the tools' paths. */
export function sdkTools(): Promise<SdkTools> {
  tools ??= (async () => {
    const { stdout } = await run('bash', [path.join(REPO_ROOT, 'scripts/sdk-env')], { maxBuffer: 1 << 20, timeout: 30 * 60_000 })
      .catch((err) => {
        throw new Error(`scripts/sdk-env failed: ${err.stderr ?? err.message}`);
      });
    const vars = Object.fromEntries(
      stdout.split('\n').filter((l) => l.startsWith('export ')).map((l) => {
        const [k, ...v] = l.slice('export '.length).split('=');
        return [k, v.join('=').replace(/^'(.*)'$/, '$1')];
      }),
    );
    return {
      python: vars.KILN_SDK_PYTHON,
      // test-env may have built its own grpcurl: either works.
      grpcurl: process.env.KILN_TEST_GRPCURL || vars.KILN_TEST_GRPCURL,
      ghz: vars.KILN_GHZ,
      go: vars.KILN_GO,
      goPluginsBin: vars.KILN_GO_PLUGINS_BIN,
    };
  })();
  return tools;
}

export interface KilnProcess {
  registry: string;
  inference: string;
  builder: string;
  /** Prometheus endpoints (http://host:port/metrics) per service. */
  metrics: { registry: string; inference: string; builder: string };
  /** The database the run uses (dropped at stop). */
  databaseUrl: string;
  /** The Kiln process's pid (benchmarks read its CPU time from /proc). */
  pid: number;
  /** The process's output so far (for failure messages). */
  output(): string;
  /** The unhandled rejections the process logged (stop() fails on any unless allowUnhandledRejections). */
  unhandledRejections(): string[];
  /** SIGKILL, as a crash would, and waits for the exit (stop() still cleans up after). */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface KilnProcessOptions {
  /** Extra or overriding environment for the process. */
  env?: Record<string, string>;
  /** The script to run (default services/all.ts). */
  script?: string;
  /** Which services to wait for (default: all three). */
  services?: string[];
  /** Node flags (e.g. --cpu-prof): the process runs as `node FLAGS scripts/service.mjs SCRIPT`. */
  nodeArgs?: string[];
  /** Also append the process's output to this file. */
  logFile?: string;
  /** Use this database (processes sharing it: replicas, restarts) instead of a fresh one; it is not dropped at stop. */
  databaseUrl?: string;
  /** Use this MinIO prefix instead of a fresh one; it is not emptied at stop. */
  s3Prefix?: string;
  /** Listen on these ports (a restarted service keeps its address) instead of free ones. */
  ports?: Partial<Record<'registry' | 'builder' | 'inference', number>>;
  /** Let stop() succeed though the process logged unhandled rejections (a test of that log line itself). */
  allowUnhandledRejections?: boolean;
  /** How the readiness health checks connect, for a process serving TLS (default: plaintext). */
  tls?: ClientTlsSettings;
}

/** Starts `services/all.ts` as `npm start` does, with real Postgres (a fresh database) and MinIO (a fresh prefix). */
export async function startKilnProcess(options: KilnProcessOptions = {}): Promise<KilnProcess> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const database = options.databaseUrl ? { url: options.databaseUrl, drop: async () => {} } : await freshDatabase();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-proc-'));
  const s3Prefix = options.s3Prefix ?? `proc/${runId}/`;

  const [freeRegistry, freeBuilder, freeInference, rm, bm, im] = await Promise.all(Array.from({ length: 6 }, freePort));
  const registryPort = options.ports?.registry ?? freeRegistry;
  const builderPort = options.ports?.builder ?? freeBuilder;
  const inferencePort = options.ports?.inference ?? freeInference;
  const address = (p: number) => `127.0.0.1:${p}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    KILN_DATA_DIR: dataDir,
    KILN_LOG_LEVEL: process.env.KILN_LOG_LEVEL ?? 'warn',
    DATABASE_URL: database.url,
    ...testS3Env(s3Prefix),
    KILN_REGISTRY_LISTEN: address(registryPort),
    KILN_BUILDER_LISTEN: address(builderPort),
    KILN_INFERENCE_LISTEN: address(inferencePort),
    KILN_REGISTRY_METRICS_LISTEN: address(rm),
    KILN_BUILDER_METRICS_LISTEN: address(bm),
    KILN_INFERENCE_METRICS_LISTEN: address(im),
    KILN_SHUTDOWN_GRACE_MS: '5000',
  };
  if (process.env.KILN_TEST_REGISTRY) {
    Object.assign(env, { KILN_IMAGE_REGISTRY: process.env.KILN_TEST_REGISTRY, KILN_IMAGE_REGISTRY_INSECURE: 'true', KILN_IMAGE_PREFIX: `kiln-proc-${runId}` });
  }
  Object.assign(env, options.env ?? {});

  const script = options.script ?? 'services/all.ts';
  // node itself (no wrapper process), so the pid is the service's and node flags reach it.
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(REPO_ROOT, 'scripts/service.mjs'), script], {
    cwd: REPO_ROOT,
    env: withServiceEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const logFile = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  const keep = (b: Buffer) => {
    logFile?.write(b);
    output += b.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  // Every line of stdout is looked at, whatever `output` keeps: a rejection nobody handled is a bug, even one the
  // process survived, and the test that met it fails at stop().
  const rejections: string[] = [];
  let partial = '';
  child.stdout!.on('data', (b: Buffer) => {
    const lines = (partial + b.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.includes(UNHANDLED_REJECTION)) rejections.push(line);
  });
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => {
    keep(Buffer.from(`\n[kiln exited: code ${code}, signal ${signal}]\n`));
    resolve(code);
  }));

  const dropDatabase = database.drop;
  const stop = async () => {
    await stopChild(child, exited);
    await dropDatabase();
    if (!options.s3Prefix) await emptyS3Prefix(s3Prefix);
    await fs.rm(dataDir, { recursive: true, force: true });
    if (rejections.length && !options.allowUnhandledRejections) {
      throw new Error(`kiln logged ${rejections.length} unhandled rejection(s):\n${rejections.join('\n')}`);
    }
  };

  const services = options.services ?? ['kiln.v1.Registry', 'kiln.v1.Inference', 'kiln.v1.Builder'];
  const ports: Record<string, number> = { 'kiln.v1.Registry': registryPort, 'kiln.v1.Inference': inferencePort, 'kiln.v1.Builder': builderPort };
  try {
    await Promise.race([
      Promise.all(services.map((s) => waitServing(address(ports[s]), s, 90_000, options.tls))),
      exited.then((code) => {
        throw new Error(`kiln exited with code ${code} before it was up`);
      }),
    ]);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- kiln output ---\n${output}`);
  }
  return {
    registry: address(registryPort),
    inference: address(inferencePort),
    builder: address(builderPort),
    metrics: {
      registry: `http://${address(rm)}/metrics`,
      inference: `http://${address(im)}/metrics`,
      builder: `http://${address(bm)}/metrics`,
    },
    databaseUrl: database.url,
    pid: child.pid!,
    output: () => output,
    unhandledRejections: () => [...rejections],
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop,
  };
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** grpc.health.v1.Health/Check for one service name at an address (@kiln/api's checker, as the image uses it). */
export function healthCheck(address: string, service: string, deadlineMs = 2000, tls?: ClientTlsSettings): Promise<string> {
  return checkHealth(address, service, { deadlineMs, tls });
}

/** Polls the health check until the service answers SERVING. */
export async function waitServing(address: string, service: string, timeoutMs: number, tls?: ClientTlsSettings): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      last = await healthCheck(address, service, 2000, tls);
      if (last === 'SERVING') return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${service} at ${address} was not SERVING after ${timeoutMs} ms (last: ${last})`);
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (a CLI, an SDK's example), its exit code and output whatever happens. */
export const execute = (file: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = REPO_ROOT, timeout = 60_000): Promise<Run> =>
  new Promise((resolve) =>
    execFile(file, args, { env, cwd, timeout }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })),
  );
