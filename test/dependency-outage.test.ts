// Codes a client can act on, against the real Postgres and MinIO: a registry whose way to either is cut (a TCP relay
// in this process closed, so connections are refused; the shared servers keep running) answers UNAVAILABLE on every
// call that needs it and reports NOT_SERVING, then recovers by itself once the relay is back; the drivers' own
// outage errors are the ones the classifier knows; int64 extremes through grpcurl, an empty upload and a gzip bomb
// are INVALID_ARGUMENT.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { S3BlobStore } from '@kiln/blobstore/s3';
import { KilnError, unavailableReason } from '@kiln/errors';
import { tarOf, zeroFileTarGz } from '@kiln/archive/testing';
import { assertGrpcError, unary, uploadStream } from './helpers/grpc';
import { healthCheck, REPO_ROOT } from './helpers/kiln-process';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy';
import { freePort, freshDatabase, requireEnv } from './helpers/test-config';
import { startKiln, waitForBuild, type RunningKiln } from './helpers/services';

/** The kiln CLI against the registry: its exit code and what it printed. */
const cli = (kiln: RunningKiln, ...args: string[]) =>
  new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(path.join(REPO_ROOT, 'cli/bin/kiln'), [...args, '--address', kiln.registry], { timeout: 60_000 }, (err, _stdout, stderr) =>
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stderr }),
    ),
  );

async function relayTo(url: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(url);
  return startTcpProxy({ host: hostname, port: Number(port) });
}

const through = (url: string, relay: TcpProxy) => {
  const u = new URL(url);
  u.host = `127.0.0.1:${relay.port}`;
  return u.toString().replace(/\/$/, '');
};

/** Polls both health entries of the registry until they read `status`. */
async function healthBecomes(kiln: RunningKiln, status: string, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  let seen: string[] = [];
  while (Date.now() - started < timeoutMs) {
    seen = await Promise.all(['kiln.v1.Registry', ''].map((s) => healthCheck(kiln.registry, s).catch((e: Error) => e.message)));
    if (seen.every((s) => s === status)) return Date.now() - started;
    await sleep(100);
  }
  throw new Error(`registry health is ${seen.join(', ')} after ${timeoutMs} ms, not ${status}`);
}

const tarUpload = async (kiln: RunningKiln, model: string) =>
  uploadStream(kiln.client, { model, format: 'ARCHIVE_FORMAT_TAR' }, await tarOf([{ name: 'model.bin', content: Buffer.alloc(200_000, 3) }]));

const fileUpload = (kiln: RunningKiln, model: string) =>
  uploadStream(kiln.client, { model, format: 'ARCHIVE_FORMAT_FILE', fileName: 'model.bin' }, Buffer.alloc(100_000, 4));

describe('a registry whose Postgres or MinIO is unreachable', () => {
  let kiln: RunningKiln;
  let database: TcpProxy;
  let s3: TcpProxy;
  const model = `outage-${Date.now().toString(36)}`;

  let db: Awaited<ReturnType<typeof freshDatabase>>;

  before(async () => {
    const env = requireEnv('KILN_TEST_S3_ENDPOINT');
    db = await freshDatabase();
    database = await relayTo(db.url);
    s3 = await relayTo(env.KILN_TEST_S3_ENDPOINT);
    kiln = await startKiln({
      env: {
        DATABASE_URL: through(db.url, database),
        KILN_S3_ENDPOINT: through(env.KILN_TEST_S3_ENDPOINT, s3),
        KILN_HEALTH_INTERVAL_MS: '200',
      },
    });
    const v = await tarUpload(kiln, model);
    // No build runs while a dependency is cut: what a build does then is another test's.
    await waitForBuild(kiln.client, model, v.version);
  });
  after(async () => {
    await kiln?.stop();
    await database?.close();
    await s3?.close();
    await db?.drop();
  });

  it('MinIO cut: uploads (tar and single file) are UNAVAILABLE naming the blob store, health NOT_SERVING; both recover', async () => {
    await healthBecomes(kiln, 'SERVING');
    await s3.cut();
    try {
      await assertGrpcError(tarUpload(kiln, model), 'UNAVAILABLE', /^the blob store \(S3 bucket .*\) is unavailable/);
      await assertGrpcError(fileUpload(kiln, model), 'UNAVAILABLE', /^the blob store \(S3 bucket .*\) is unavailable/);
      // A folder uploads as a tar: the CLI exits 7 (retry later), not 4 (can never succeed).
      const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-outage-'));
      await writeFile(path.join(dir, 'model.bin'), Buffer.alloc(50_000, 5));
      const upload = await cli(kiln, 'upload', dir, '--name', model, '-q');
      assert.equal(upload.code, 7, upload.stderr);
      assert.match(upload.stderr, /the blob store .* is unavailable/);
      const ms = await healthBecomes(kiln, 'NOT_SERVING');
      console.log(`NOT_SERVING ${ms} ms after MinIO was cut`);
      // What needs only Postgres still works.
      assert.equal((await unary<object, { version: number }>(kiln.client, 'GetModelVersion', { model, version: 1 })).version, 1);
    } finally {
      await s3.restore();
    }
    const ms = await healthBecomes(kiln, 'SERVING');
    console.log(`SERVING ${ms} ms after MinIO was back`);
    const v = await fileUpload(kiln, model);
    await waitForBuild(kiln.client, model, v.version);
  });

  it('Postgres cut: upload, get, list, download and delete are UNAVAILABLE naming the database, health NOT_SERVING; both recover', async () => {
    await healthBecomes(kiln, 'SERVING');
    await database.cut();
    const down = /^the database \(Postgres\) is unavailable/;
    try {
      await assertGrpcError(tarUpload(kiln, model), 'UNAVAILABLE', down);
      await assertGrpcError(fileUpload(kiln, model), 'UNAVAILABLE', down);
      // Version 1 is cached in memory once final: an uncached one is read from the database.
      await assertGrpcError(unary(kiln.client, 'GetModelVersion', { model, version: 0 }), 'UNAVAILABLE', down);
      await assertGrpcError(unary(kiln.client, 'ListModels', {}), 'UNAVAILABLE', down);
      await assertGrpcError(unary(kiln.client, 'ListModelVersions', { model }), 'UNAVAILABLE', down);
      await assertGrpcError(unary(kiln.client, 'DeleteModelVersion', { model, version: 1 }), 'UNAVAILABLE', down);
      const download = (async () => {
        for await (const _ of kiln.client.DownloadModelVersion({ model, version: 0 })) { /* drain */ }
      })();
      await assertGrpcError(download, 'UNAVAILABLE', down);
      const ms = await healthBecomes(kiln, 'NOT_SERVING');
      console.log(`NOT_SERVING ${ms} ms after Postgres was cut`);
    } finally {
      await database.restore();
    }
    const ms = await healthBecomes(kiln, 'SERVING', 20_000);
    console.log(`SERVING ${ms} ms after Postgres was back`);
    const listed = await unary<object, { versions: unknown[] }>(kiln.client, 'ListModelVersions', { model });
    assert.equal(listed.versions.length, 2);
  });

  it('int64 extremes through grpcurl are INVALID_ARGUMENT naming the field; 2^53 - 1 is looked up as itself', async () => {
    const { KILN_TEST_GRPCURL: grpcurl } = requireEnv('KILN_TEST_GRPCURL');
    const call = (data: object) =>
      new Promise<{ code: number; out: string }>((resolve) =>
        execFile(grpcurl, ['-plaintext', '-d', JSON.stringify(data), kiln.registry, 'kiln.v1.Registry/GetModelVersion'], { timeout: 30_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code) : 0, out: stdout + stderr }),
        ),
      );
    for (const version of ['9223372036854775807', '9007199254740993', '-9223372036854775808']) {
      const { out } = await call({ model, version });
      assert.match(out, /Code: InvalidArgument/, version);
      assert.match(out, /GetModelVersionRequest\.version: out of range/, version);
    }
    const { out } = await call({ model, version: '9007199254740991' });
    assert.match(out, /Code: NotFound/);
    assert.match(out, /has no version 9007199254740991\b/);
    const get = await cli(kiln, 'get', `${model}:9007199254740993`);
    assert.equal(get.code, 2, `a usage error, found before calling: ${get.stderr}`);
    assert.match(get.stderr, /must be a whole number from 1 to 9007199254740991/);
  });

  it('a .tar.gz of one 8 GiB file of zeros (8 MiB sent) is refused within seconds by its decompression ratio, under the default limits', async () => {
    const bomb = await zeroFileTarGz('zeros.bin', 512);
    const started = performance.now();
    await assertGrpcError(
      uploadStream(kiln.client, { model: `${model}-bomb`, format: 'ARCHIVE_FORMAT_TAR_GZ' }, Readable.from(bomb.chunks(), { objectMode: false })),
      'INVALID_ARGUMENT',
      /^archive entry "zeros\.bin": the archive decompresses to more than 100 times its compressed size .*KILN_MAX_DECOMPRESSION_RATIO/,
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`8 GiB bomb refused in ${seconds.toFixed(2)} s, ${bomb.sent} of ${bomb.size} bytes generated`);
    assert.ok(seconds < 3, `took ${seconds} s`);
    await assertGrpcError(unary(kiln.client, 'GetModelVersion', { model: `${model}-bomb`, version: 0 }), 'NOT_FOUND', /does not exist/);
  });

  it('an upload with a header and no bytes is INVALID_ARGUMENT, not a version of one empty file', async () => {
    await assertGrpcError(
      uploadStream(kiln.client, { model, format: 'ARCHIVE_FORMAT_FILE', fileName: 'model.onnx', expectedSize: 0 }, Buffer.alloc(0)),
      'INVALID_ARGUMENT',
      /^archive: the model is empty: model\.onnx holds no bytes/,
    );
  });
});

describe('a build whose builder cannot reach MinIO', () => {
  it('is retried (the builder answers UNAVAILABLE, and NOT_SERVING), not FAILED, and is RELEASED once MinIO is back', async (t) => {
    const env = requireEnv('KILN_TEST_S3_ENDPOINT');
    const s3 = await relayTo(env.KILN_TEST_S3_ENDPOINT);
    const kiln = await startKiln({
      env: {
        KILN_S3_ENDPOINT: through(env.KILN_TEST_S3_ENDPOINT, s3),
        KILN_HEALTH_INTERVAL_MS: '200',
        KILN_BUILD_RETRY_DELAY_SECONDS: '1',
        KILN_BUILD_RETRY_MAX_DELAY_SECONDS: '1',
      },
    });
    t.after(async () => {
      await s3.restore().catch(() => {});
      await kiln.stop();
      await s3.close();
    });
    const model = `outage-build-${Date.now().toString(36)}`;
    // The version is stored while MinIO answers; its build runs only once the builder is back, with MinIO cut.
    await kiln.stopBuilder();
    const v = await tarUpload(kiln, model);
    await s3.cut();
    await kiln.restartBuilder();
    const lines: string[] = [];
    const building = waitForBuild(kiln.client, model, v.version, { timeoutMs: 60_000, onLog: (l) => lines.push(l) });
    const deadline = Date.now() + 20_000;
    let status = '';
    while (Date.now() < deadline && (status = await healthCheck(kiln.builder, 'kiln.v1.Builder').catch((e: Error) => e.message)) !== 'NOT_SERVING') await sleep(100);
    assert.equal(status, 'NOT_SERVING', 'the builder reports the blob store it reads');
    await sleep(2500); // a few attempts, each failing on the blob store
    const during = await unary<object, { status: string }>(kiln.client, 'GetModelVersion', { model, version: v.version });
    assert.equal(during.status, 'MODEL_VERSION_STATUS_BUILDING', 'a build that met an outage is not FAILED');
    await s3.restore();
    const { version } = await building;
    assert.equal(version.status, 'MODEL_VERSION_STATUS_RELEASED', version.failureReason);
  });
});

describe('the drivers\' own outage errors', () => {
  it('are the ones the classifier knows: pg refused and terminated by the server, S3 refused', async () => {
    const closed = await freePort();
    const client = new pg.Client({ connectionString: `postgres://kiln@127.0.0.1:${closed}/kiln` });
    const refused = await client.connect().then(() => undefined, (err: unknown) => err);
    assert.ok(unavailableReason(refused), `pg refused: ${String(refused)}`);

    // A real admin shutdown of one connection (57P01), as a Postgres stopping sends to each of its clients.
    const { KILN_TEST_DATABASE_URL: url } = requireEnv('KILN_TEST_DATABASE_URL');
    const victim = new pg.Client({ connectionString: url });
    await victim.connect();
    const errors: unknown[] = [];
    victim.on('error', (e) => errors.push(e));
    const { rows } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
    await admin.end();
    for (let i = 0; i < 50 && !errors.length; i++) await sleep(20);
    const err = errors[0];
    assert.equal((err as { code?: string }).code, '57P01', String(err));
    assert.ok(unavailableReason(err));
    await victim.end().catch(() => {});
    const afterwards = await victim.query('SELECT 1').then(() => undefined, (e: unknown) => e);
    assert.ok(unavailableReason(afterwards), `a query on the dead client: ${String(afterwards)}`);

    const store = new S3BlobStore({
      bucket: 'kiln',
      endpoint: `http://127.0.0.1:${closed}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      clientConfig: { maxAttempts: 1 },
    });
    try {
      for (const attempt of [() => store.ping(), () => store.stat('a'.repeat(64)), () => store.read('a'.repeat(64))]) {
        await assert.rejects(attempt(), (e: unknown) => {
          assert.ok(e instanceof KilnError && e.code === 'UNAVAILABLE', String(e));
          assert.match(e.message, /^the blob store \(S3 bucket kiln at http:\/\/127\.0\.0\.1:\d+\) is unavailable \(.*ECONNREFUSED/);
          return true;
        });
      }
    } finally {
      store.destroy();
    }
  });
});
