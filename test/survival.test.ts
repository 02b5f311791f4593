// End-to-end tests that no dependency outage or bad call ends a Kiln service, against the real Postgres and MinIO of
// scripts/test-env, reached through proxies a test cuts (the servers other tests share keep running): a download
// whose blob is gone (DATA_LOSS) or whose S3 server is down or goes away mid-file (UNAVAILABLE), Postgres gone in
// the middle of a build, a 128 KiB name (each answered promptly, and the next call on the same channel too), and a
// process's handler for rejections nobody handled (logged fatal; the process keeps serving; its test fails).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { grpc, inferenceClient, registryClient, type RegistryClient } from '@kiln/api';
import { promiseClient } from '@kiln/api/client';
import type { BlobStore } from '@kiln/blobstore';
import { openBlobStore } from '@kiln/blobstore/open';
import { assertGrpcError, unary } from './helpers/grpc';
import { healthCheck, startKilnProcess, type KilnProcess } from './helpers/kiln-process';
import { startKiln, uploadModel, type RunningKiln } from './helpers/services';
import { freshDatabase, requireEnv, type TestDatabase } from './helpers/test-config';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy';

const KiB = 1024;

/** The tar a download streams, drained; rejects with the call's error. */
async function download(kiln: RunningKiln, model: string, version: number, paths: string[] = []): Promise<number> {
  let bytes = 0;
  const chunks = promiseClient(kiln.client).DownloadModelVersion({ model, version, paths }, { deadline: Date.now() + 20_000 });
  for await (const { chunk } of chunks) bytes += chunk.length;
  return bytes;
}

describe('downloads whose blobs cannot be read, on real MinIO behind a proxy', () => {
  let kiln: RunningKiln;
  let s3: TcpProxy;
  let blobs: BlobStore;

  before(async () => {
    const endpoint = new URL(requireEnv('KILN_TEST_S3_ENDPOINT').KILN_TEST_S3_ENDPOINT);
    s3 = await startTcpProxy({ host: endpoint.hostname, port: Number(endpoint.port) });
    kiln = await startKiln({ env: { KILN_S3_ENDPOINT: `http://${s3.address}` } });
    await kiln.stopBuilder(0); // only downloads are under test
    blobs = await openBlobStore(kiln.config.blobs);
  });
  after(async () => {
    await s3?.restore().catch(() => {});
    try {
      await kiln?.stop();
    } finally {
      await s3?.close();
    }
  });

  it('a file whose blob was deleted behind Kiln\'s back: DATA_LOSS naming it, and the registry keeps serving', async () => {
    const v = await uploadModel(kiln.client, 'lost-blob', [{ path: 'a.bin', content: 'a'.repeat(3000) }, { path: 'b.bin', content: 'b'.repeat(5000) }]);
    const lost = v.files.find((f) => f.path === 'b.bin')!;
    await blobs.delete(lost.sha256);
    for (const paths of [[], ['b.bin']]) {
      await assertGrpcError(download(kiln, 'lost-blob', v.version, paths), 'DATA_LOSS', /lost-blob version 1's file b\.bin are missing/);
    }
    assert.ok((await download(kiln, 'lost-blob', v.version, ['a.bin'])) > 3000, 'the file still stored downloads');
    const again = await unary<object, { version: number }>(kiln.client, 'GetModelVersion', { model: 'lost-blob', version: v.version });
    assert.equal(again.version, v.version);
  });

  it('the S3 server unreachable: UNAVAILABLE, and the registry serves again once it is back', async () => {
    const v = await uploadModel(kiln.client, 's3-down', [{ path: 'm.bin', content: 'm'.repeat(4000) }]);
    await s3.cut();
    try {
      const started = Date.now();
      await assertGrpcError(download(kiln, 's3-down', v.version), 'UNAVAILABLE', /blob store .* is unavailable/);
      assert.ok(Date.now() - started < 15_000, `answered in ${Date.now() - started} ms`);
      const meta = await unary<object, { version: number }>(kiln.client, 'GetModelVersion', { model: 's3-down', version: v.version });
      assert.equal(meta.version, v.version, 'what needs no blob is still served');
    } finally {
      await s3.restore();
    }
    assert.ok((await download(kiln, 's3-down', v.version)) > 4000);
  });

  it('the S3 server gone in the middle of a file: the download ends UNAVAILABLE, and the next one is whole', async () => {
    const v = await uploadModel(kiln.client, 's3-gone', [{ path: 'big.bin', content: randomBytes(32 * 1024 * 1024) }]);
    const chunks = promiseClient(kiln.client).DownloadModelVersion({ model: 's3-gone', version: v.version, paths: [] }, { deadline: Date.now() + 20_000 });
    let cut = false;
    try {
      await assertGrpcError((async () => {
        for await (const _ of chunks) {
          if (!cut) await s3.cut(); // the first bytes are here, most of the file is still to come
          cut = true;
        }
      })(), 'UNAVAILABLE', /s3-gone version 1's file big\.bin broke off/);
    } finally {
      await s3.restore();
    }
    assert.equal(await download(kiln, 's3-gone', v.version), 32 * 1024 * 1024 + 512 + 1024); // its header and the archive's end
  });
});

describe('a 128 KiB name on a real registry', () => {
  let kiln: RunningKiln;

  before(async () => {
    kiln = await startKiln();
    await kiln.stopBuilder(0);
    await uploadModel(kiln.client, 'known', [{ path: 'm.bin', content: 'm' }]);
  });
  after(() => kiln?.stop());

  const huge = 'a'.repeat(128 * KiB);
  // Each with a deadline: without the fix a call hangs until it.
  const soon = () => ({ deadline: Date.now() + 5000 });
  const calls: Array<[string, (k: RunningKiln) => Promise<unknown>]> = [
    ['GetModelVersion', (k) => promiseClient(k.client).GetModelVersion({ model: huge, version: 1 }, soon())],
    ['ListModelVersions', (k) => promiseClient(k.client).ListModelVersions({ model: huge }, soon())],
    ['DeleteModelVersion', (k) => promiseClient(k.client).DeleteModelVersion({ model: huge, version: 1 }, soon())],
    ['DownloadModelVersion', (k) => download(k, huge, 1)],
    ['DownloadModelVersion (a 128 KiB path)', (k) => download(k, 'known', 1, [huge])],
    ['UploadModel (name)', (k) => promiseClient(k.client).UploadModel([{ header: { model: huge, format: 'ARCHIVE_FORMAT_TAR' } }], soon())],
    ['UploadModel (label key)', (k) => promiseClient(k.client).UploadModel([{ header: { model: 'labelled', labels: { [huge]: 'x' }, format: 'ARCHIVE_FORMAT_TAR' } }], soon())],
  ];
  for (const [what, call] of calls) {
    it(`${what}: INVALID_ARGUMENT or NOT_FOUND within a second, with small trailers, and the next call on the channel works`, async () => {
      const started = Date.now();
      await assert.rejects(call(kiln), (err: grpc.ServiceError) => {
        assert.ok([grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND].includes(err.code), `${grpc.status[err.code]}: ${err.details}`);
        assert.ok(Buffer.byteLength(err.details) <= 1024, `a message of ${Buffer.byteLength(err.details)} bytes`);
        return true;
      });
      assert.ok(Date.now() - started < 1000, `answered in ${Date.now() - started} ms`);
      const known = await promiseClient(kiln.client).GetModelVersion({ model: 'known', version: 1 }, soon());
      assert.equal(known.version, 1);
    });
  }

  it('a name over 128 characters is refused by its length, not repeated', async () => {
    await assertGrpcError(promiseClient(kiln.client).GetModelVersion({ model: huge, version: 1 }, soon()), 'INVALID_ARGUMENT', /^GetModelVersionRequest\.model: the model name is 131072 characters long: at most 128$/);
    // A fresh channel too: nothing the first one did is needed.
    const other = registryClient(kiln.registry);
    try {
      await assertGrpcError(promiseClient(other).ListModelVersions({ model: huge }, soon()), 'INVALID_ARGUMENT', /131072 characters long/);
    } finally {
      other.close();
    }
  });
});

describe('Postgres gone in the middle of a build, behind a proxy', () => {
  const env = requireEnv('KILN_TEST_DATABASE_URL', 'KILN_TEST_DOCKER_HOST', 'KILN_TEST_BASE_IMAGE');
  let database: TestDatabase;
  let postgres: TcpProxy;
  let kiln: KilnProcess;
  let client: RegistryClient;

  before(async () => {
    database = await freshDatabase();
    const url = new URL(database.url);
    postgres = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    url.host = postgres.address;
    kiln = await startKilnProcess({
      databaseUrl: url.toString(),
      // Short leases and retries: the build comes back within seconds of the database.
      env: { KILN_DOCKER_HOST: env.KILN_TEST_DOCKER_HOST, KILN_BUILD_LEASE_SECONDS: '3', KILN_HEALTH_INTERVAL_MS: '500', KILN_BUILD_RETRY_DELAY_SECONDS: '1', KILN_BUILD_RETRY_MAX_DELAY_SECONDS: '2' },
    });
    client = registryClient(kiln.registry);
  });
  after(async () => {
    client?.close();
    await postgres?.restore().catch(() => {});
    try {
      await kiln?.stop(); // fails if the process logged an unhandled rejection
    } finally {
      await postgres?.close();
      await database?.drop();
    }
  });

  it('the registry logs what failed and keeps serving; once Postgres is back the build is retried and RELEASED, and uploads work', async () => {
    // A line while Postgres is away, then a silence: a failed write of that line once went unhandled in the silence.
    const manifest = `runtime: ${env.KILN_TEST_BASE_IMAGE}\ninstall-command: "echo kiln-before; sleep 2; echo kiln-during; sleep 6; echo kiln-after"\n`;
    const v = await uploadModel(client, 'db-gone', [{ path: 'a.txt', content: `${Date.now()}-${Math.random()}\n` }], { manifest });
    const watch = promiseClient(client).WatchModelVersion({ model: 'db-gone', version: v.version }, { deadline: Date.now() + 120_000 });
    for await (const event of watch) if (event.log?.line === 'kiln-before') break;
    await postgres.cut();
    const cutAt = Date.now();
    const soon = () => ({ deadline: Date.now() + 10_000 });
    try {
      // Past the line that cannot be stored and into the silence.
      await new Promise((r) => setTimeout(r, 4000));
      await assert.rejects(uploadModel(client, 'during', [{ path: 'b.txt', content: 'b' }]), 'an upload needs the database');
      await assert.rejects(promiseClient(client).GetModelVersion({ model: 'db-gone', version: v.version + 1 }, soon()));
      // Still up, and saying what it lacks: its health follows Postgres.
      assert.equal(await healthCheck(kiln.registry, 'kiln.v1.Registry'), 'NOT_SERVING', `the registry is still up:\n${kiln.output().slice(-5000)}`);
    } finally {
      await postgres.restore();
    }
    const deadline = Date.now() + 90_000;
    let status = '';
    while (Date.now() < deadline) {
      status = String((await promiseClient(client).GetModelVersion({ model: 'db-gone', version: v.version }, soon()).catch(() => undefined))?.status ?? '');
      if (status === 'MODEL_VERSION_STATUS_RELEASED' || status === 'MODEL_VERSION_STATUS_FAILED') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(status, 'MODEL_VERSION_STATUS_RELEASED', kiln.output().slice(-5000));
    const after = await uploadModel(client, 'after', [{ path: 'c.txt', content: 'c' }]);
    assert.equal(after.version, 1);
    assert.deepEqual(kiln.unhandledRejections(), []);
    console.log(`# released ${((Date.now() - cutAt) / 1000).toFixed(1)} s after Postgres went away (away for ~4 s)`);
  });
});

describe('a service process', () => {
  it('logs a rejection nobody handled at fatal level with its stack, keeps serving, and fails its test at stop()', async () => {
    const kiln = await startKilnProcess({ script: 'test/fixtures/services/unhandled-rejection.ts', services: ['kiln.v1.Inference'] });
    let stopped = false;
    try {
      const deadline = Date.now() + 10_000;
      while (kiln.unhandledRejections().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const [line, ...more] = kiln.unhandledRejections();
      assert.ok(line, `no unhandled rejection was logged:\n${kiln.output()}`);
      assert.equal(more.length, 0);
      const logged = JSON.parse(line) as { level: number; msg: string; err: { message: string; stack: string } };
      assert.equal(logged.level, 60, 'fatal');
      assert.equal(logged.err.message, 'a rejection nobody handles');
      assert.match(logged.err.stack, /^Error: a rejection nobody handles\n\s+at /, 'with its stack');
      // Still serving: the health check, and a call answered by the service itself.
      assert.equal(await healthCheck(kiln.inference, 'kiln.v1.Inference'), 'SERVING');
      const inference = inferenceClient(kiln.inference);
      try {
        await assert.rejects(promiseClient(inference).InferContract({ path: '/nowhere' }, { deadline: Date.now() + 5000 }),
          (err: grpc.ServiceError) => err.code !== grpc.status.UNAVAILABLE && err.code !== grpc.status.DEADLINE_EXCEEDED);
      } finally {
        inference.close();
      }
      stopped = true;
      await assert.rejects(kiln.stop(), /kiln logged 1 unhandled rejection\(s\):\n.*a rejection nobody handles/);
      assert.match(kiln.output(), /\[kiln exited: code 0, signal null\]/, 'it stopped by SIGTERM as usual');
    } finally {
      if (!stopped) await kiln.stop().catch(() => {});
    }
  });
});
