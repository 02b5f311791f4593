// Test helper: the three Kiln services (registry, inference, builder) started in this process on port 0, against the
// real Postgres (a fresh database per startKiln) and MinIO (a fresh key prefix) that scripts/test-env runs; plus
// uploads and waiting for a version to be final, for any end-to-end test to reuse. A rejection the services leave
// unhandled fails the running test by itself (node:test's own handler); kiln-process.ts looks for it in a child's log.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { registryClient, type RegistryClient } from '@kiln/api';
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import type { WatchModelVersionResponse__Output } from '@kiln/api/generated/kiln/v1/WatchModelVersionResponse';
import { loadConfig, type KilnConfig } from '@kiln/config';
import { createLogger } from '@kiln/log';
import { FILE_MODE, EXEC_MODE, reproducibleTar } from '@kiln/oci';
import { openBlobStore } from '@kiln/blobstore/open';
import { startRegistry } from '../../services/registry/src/index';
import { freshDatabase, testS3Env } from './test-config';
import { startInference } from '../../services/inference/src/index';
import { startBuilder } from '../../services/builder/src/index';

export interface StartKilnOptions {
  /** KILN_* variables over the defaults (images go to KILN_TEST_REGISTRY unless KILN_IMAGE_* are given). */
  env?: Record<string, string | undefined>;
  /** Keep blobs in the data dir instead of MinIO, and the database in PGlite instead of Postgres. */
  embedded?: boolean;
  /** The builder's fetch for registry requests: wrap the global one to see what a build sends. */
  builderFetch?: typeof fetch;
  /** Files over this many bytes get a layer of their own in the builder (default 16 MiB): small weights for fast tests. */
  builderLargeFileThreshold?: number;
}

export interface RunningKiln {
  registry: string;
  inference: string;
  builder: string;
  /** The configuration every service was started with (the builder's learns the registry's address last). */
  config: KilnConfig;
  client: RegistryClient;
  /** Stops only the builder; graceMs 0 cancels its in-flight builds at once, as a killed process would. */
  stopBuilder(graceMs?: number): Promise<void>;
  /** Stops the registry and starts it again on its address (a restart: what it had in memory is gone). */
  restartRegistry(): Promise<void>;
  /** Starts a new builder on the address the registry knows. */
  restartBuilder(): Promise<void>;
  stop(): Promise<void>;
}

export async function startKiln(options: StartKilnOptions = {}): Promise<RunningKiln> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-e2e-'));
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const env: Record<string, string | undefined> = {
    KILN_DATA_DIR: dataDir,
    KILN_LOG_LEVEL: process.env.KILN_LOG_LEVEL ?? 'warn',
    KILN_REGISTRY_LISTEN: '127.0.0.1:0',
    KILN_BUILDER_LISTEN: '127.0.0.1:0',
    KILN_INFERENCE_LISTEN: '127.0.0.1:0',
    KILN_SHUTDOWN_GRACE_MS: '5000',
  };
  let dropDatabase = async () => {};
  if (!options.embedded) {
    const database = await freshDatabase();
    dropDatabase = database.drop;
    Object.assign(env, { DATABASE_URL: database.url, ...testS3Env(`e2e/${runId}/`) });
  }
  if (process.env.KILN_TEST_REGISTRY) {
    Object.assign(env, { KILN_IMAGE_REGISTRY: process.env.KILN_TEST_REGISTRY, KILN_IMAGE_REGISTRY_INSECURE: 'true', KILN_IMAGE_PREFIX: `kiln-e2e-${runId}` });
  }
  if (process.env.KILN_TEST_DOCKER_HOST) env.KILN_DOCKER_HOST = process.env.KILN_TEST_DOCKER_HOST;
  Object.assign(env, options.env ?? {});
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];

  const config = loadConfig(env);
  const log = createLogger('kiln-e2e', config.logLevel);
  const stops: Array<() => Promise<void>> = [];
  try {
    const inference = await startInference(config, log.child({ service: 'inference' }));
    stops.push(() => inference.stop());
    // The builder needs the registry's address and the registry the builder's: the builder starts first and reads
    // config.addresses.registry at its first build, once the registry below has filled it in.
    const builderConfig: KilnConfig = { ...config, addresses: { ...config.addresses }, listen: { ...config.listen } };
    let builder = await startBuilder(builderConfig, log.child({ service: 'builder' }), { fetch: options.builderFetch, largeFileThreshold: options.builderLargeFileThreshold });
    builderConfig.listen.builder = builder.address;
    let builderRunning = true;
    stops.push(async () => {
      if (builderRunning) await builder.stop();
    });
    const registryConfig: KilnConfig = {
      ...config,
      addresses: { ...config.addresses, builder: builder.address, inference: inference.address },
    };
    let registry = await startRegistry(registryConfig, log.child({ service: 'registry' }));
    stops.push(() => registry.stop());
    builderConfig.addresses.registry = registry.address;
    Object.assign(config.addresses, { registry: registry.address, builder: builder.address, inference: inference.address });
    const client = registryClient(registry.address);

    return {
      registry: registry.address,
      inference: inference.address,
      builder: builder.address,
      config,
      client,
      async stopBuilder(graceMs = config.shutdownGraceMs) {
        builderConfig.shutdownGraceMs = graceMs;
        await builder.stop();
        builderRunning = false;
      },
      async restartRegistry() {
        await registry.stop();
        // The same address: the builder and every client keep theirs (their channels reconnect).
        registry = await startRegistry({ ...registryConfig, listen: { ...registryConfig.listen, registry: registry.address } }, log.child({ service: 'registry' }));
        // The client's channel saw the registry go: it reconnects before the caller's next call.
        await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())));
      },
      async restartBuilder() {
        builderConfig.shutdownGraceMs = config.shutdownGraceMs;
        builder = await startBuilder(builderConfig, log.child({ service: 'builder' }), { fetch: options.builderFetch, largeFileThreshold: options.builderLargeFileThreshold });
        builderRunning = true;
      },
      async stop() {
        client.close();
        for (const stop of stops.reverse()) await stop().catch((err) => log.error({ err }, 'stop failed'));
        await dropDatabase();
        if (!options.embedded) await emptyBlobStore(config);
        await fs.rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await dropDatabase();
    throw err;
  }
}

/** Removes every blob under this run's prefix of the shared bucket. */
async function emptyBlobStore(config: KilnConfig): Promise<void> {
  const blobs = await openBlobStore(config.blobs);
  for await (const { digest } of blobs.list()) await blobs.delete(digest);
  await blobs.cleanupIncomplete(0);
}

export interface UploadFile {
  path: string;
  /** The bytes, or a file on disk to stream (large fixtures). */
  content?: Buffer | string;
  file?: string;
  executable?: boolean;
}

/** Uploads files as a tar streamed to UploadModel with back-pressure; resolves with the new version. */
export async function uploadModel(
  client: RegistryClient,
  model: string,
  files: UploadFile[],
  header: { manifest?: string; labels?: Record<string, string> } = {},
): Promise<ModelVersion__Output> {
  const entries = await Promise.all(
    files.map(async (f) => {
      const bytes = f.content === undefined ? undefined : Buffer.from(f.content);
      const size = bytes ? bytes.length : (await fs.stat(f.file!)).size;
      return {
        name: f.path,
        size,
        mode: f.executable ? EXEC_MODE : FILE_MODE,
        open: (): Readable => (bytes ? Readable.from([bytes]) : createReadStream(f.file!)),
      };
    }),
  );
  const tar = reproducibleTar(entries);
  return new Promise<ModelVersion__Output>((resolve, reject) => {
    const call = client.UploadModel((err, v) => (err ? reject(err) : resolve(v!)));
    call.write({ header: { model, manifest: header.manifest ?? '', labels: header.labels ?? {}, format: 'ARCHIVE_FORMAT_TAR' } });
    (async () => {
      for await (const chunk of tar) if (!call.write({ chunk })) await once(call, 'drain');
      call.end();
    })().catch((err) => {
      call.cancel();
      reject(err);
    });
  });
}

/** Follows a version (WatchModelVersion) until it is RELEASED or FAILED; returns it and the build log lines. */
export function waitForBuild(
  client: RegistryClient,
  model: string,
  version: number,
  options: { timeoutMs?: number; onLog?: (line: string) => void } = {},
): Promise<{ version: ModelVersion__Output; log: string[] }> {
  return new Promise((resolve, reject) => {
    const log: string[] = [];
    const call = client.WatchModelVersion({ model, version });
    const timer = setTimeout(() => {
      call.cancel();
      reject(new Error(`${model} version ${version} not final after ${options.timeoutMs ?? 120_000} ms; log:\n${log.join('\n')}`));
    }, options.timeoutMs ?? 120_000);
    call.on('data', (e: WatchModelVersionResponse__Output) => {
      if (e.log) {
        log.push(e.log.line);
        options.onLog?.(e.log.line);
      }
      const status = e.version?.status;
      if (status === 'MODEL_VERSION_STATUS_RELEASED' || status === 'MODEL_VERSION_STATUS_FAILED') {
        clearTimeout(timer);
        call.cancel();
        resolve({ version: e.version!, log });
      }
    });
    call.on('error', (err: Error & { code?: number }) => {
      if (err.code === 1) return; // our own cancel
      clearTimeout(timer);
      reject(err);
    });
  });
}
