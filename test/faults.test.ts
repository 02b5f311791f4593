// End to end: the fault model (README "What survives what"). A real Kiln process runs on a Postgres and a MinIO of
// this test's own (scripts/test-env private ...), which the test stops, crashes and starts again under uploads,
// downloads and builds; it also kills Kiln itself with SIGKILL mid-upload and mid-build, deletes a blob behind its
// back, and sends garbage frames, a huge name and int64 extremes. Throughout: the service stays up, each call gets
// its documented code, every version ends RELEASED or FAILED, one lease period after a crash nothing is left (no
// unreferenced object, no open multipart upload, no pending row), every released version still downloads byte for
// byte, and no unhandled rejection is ever logged.
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import pg from 'pg';
import tar from 'tar-stream';
import { grpc, registryClient, type RegistryClient } from '@kiln/api';
import { promiseClient } from '@kiln/api/client';
import { getModelVersionRequestBytes } from '@kiln/api/wire-testing';
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import { healthCheck, startKilnProcess, type KilnProcess } from './helpers/kiln-process';
import { privateMinio, privatePostgres, type PrivateServer } from './helpers/private-servers';
import { uploadModel, waitForBuild, type UploadFile } from './helpers/services';
import { requireEnv, testS3Client } from './helpers/test-config';

const shared = requireEnv('KILN_TEST_REGISTRY', 'KILN_TEST_DOCKER_HOST', 'KILN_TEST_BASE_IMAGE');
const LEASE_SECONDS = 2;
const PREFIX = 'faults/';
/** A build that runs long enough (in the Docker engine) to be interrupted. */
const SLOW = (seconds: number) => `runtime: ${shared.KILN_TEST_BASE_IMAGE}\ninstall-command: "echo kiln-slow-start; sleep ${seconds}; echo kiln-slow-done"\n`;
const codeOf = (err: unknown) => grpc.status[(err as { code?: number }).code ?? -1] ?? String(err);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Polls `probe` until it returns true (or throws its last error / fails after `ms`). */
async function eventually(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  assert.fail(`${what}: not within ${ms} ms${last ? ` (last: ${(last as Error).message})` : ''}`);
}

/** The call's gRPC status name ('OK' when it succeeded). */
async function statusOf(call: Promise<unknown>): Promise<string> {
  return call.then(() => 'OK', codeOf);
}

/** A raw unary call with the request's bytes as given. */
function rawUnary(address: string, method: string, body: Buffer): Promise<string> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<string>((resolve) => {
    client.makeUnaryRequest(method, (b: Buffer) => b, (b: Buffer) => b, body, { deadline: Date.now() + 10_000 }, (err) => {
      client.close();
      resolve(err ? `${grpc.status[err.code]}: ${err.details}` : 'OK');
    });
  });
}

/** The files of a downloaded version, by path, as sha256 digests. */
async function downloadDigests(client: RegistryClient, model: string, version: number, paths: string[] = []): Promise<Map<string, string>> {
  const extract = tar.extract();
  const digests = new Map<string, string>();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const hash = createHash('sha256');
      stream.on('data', (c: unknown) => hash.update(c as Buffer));
      stream.on('end', () => {
        digests.set(header.name, hash.digest('hex'));
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  for await (const { chunk } of promiseClient(client).DownloadModelVersion({ model, version, paths })) extract.write(chunk);
  extract.end(undefined);
  await done;
  return digests;
}

describe('faults', () => {
  let postgres: PrivateServer;
  let minio: PrivateServer;
  let kiln: KilnProcess;
  let client: RegistryClient;
  let ports: { registry: number; builder: number; inference: number };
  let db: pg.Pool;
  let s3: S3Client;
  /** Every version made, with its files' digests, for the final checks. */
  const made: Array<{ model: string; version: number; files: Map<string, string> }> = [];
  /** The output of every Kiln process this test ran (each restart adds one). */
  const outputs: Array<() => string> = [];

  const portOf = (address: string) => Number(address.split(':').pop());

  async function startKiln(): Promise<void> {
    kiln = await startKilnProcess({
      databaseUrl: postgres.env.KILN_PRIVATE_DATABASE_URL,
      logFile: process.env.KILN_FAULTS_LOG, // a file to keep every Kiln process's output in, for a post-mortem
      s3Prefix: PREFIX,
      ports,
      env: {
        KILN_S3_ENDPOINT: minio.env.KILN_PRIVATE_S3_ENDPOINT,
        KILN_S3_BUCKET: minio.env.KILN_PRIVATE_S3_BUCKET,
        KILN_S3_REGION: minio.env.KILN_PRIVATE_S3_REGION,
        KILN_S3_ACCESS_KEY_ID: minio.env.KILN_PRIVATE_S3_ACCESS_KEY,
        KILN_S3_SECRET_ACCESS_KEY: minio.env.KILN_PRIVATE_S3_SECRET_KEY,
        KILN_S3_PART_SIZE: String(5 * 1024 * 1024),
        KILN_DOCKER_HOST: shared.KILN_TEST_DOCKER_HOST,
        KILN_UPLOAD_LEASE_SECONDS: String(LEASE_SECONDS),
        KILN_BUILD_LEASE_SECONDS: String(LEASE_SECONDS),
        KILN_BUILD_RETRY_DELAY_SECONDS: '1',
        KILN_BUILD_RETRY_MAX_DELAY_SECONDS: '2',
        KILN_BUILD_RETRY_LIMIT: '60',
        KILN_LOG_LEVEL: 'warn',
      },
    });
    ports ??= { registry: portOf(kiln.registry), builder: portOf(kiln.builder), inference: portOf(kiln.inference) };
    outputs.push(kiln.output);
    client?.close();
    client = registryClient(kiln.registry);
  }

  async function upload(model: string, files: UploadFile[], manifest = ''): Promise<ModelVersion__Output> {
    const v = await uploadModel(client, model, files, { manifest });
    made.push({ model, version: Number(v.version), files: new Map(files.map((f) => [f.path, sha256(Buffer.from(f.content!))])) });
    return v;
  }

  /** Kiln's process is alive and its registry answers its health check (with whatever status). */
  async function assertServing(): Promise<void> {
    assert.equal(kiln.output().includes('[kiln exited'), false, `kiln exited:\n${kiln.output().slice(-4000)}`);
    await healthCheck(kiln.registry, 'kiln.v1.Registry');
  }

  const health = () => healthCheck(kiln.registry, 'kiln.v1.Registry').catch((err: Error) => err.message);

  /** What a crash may have left that no lease covers any more. */
  async function leftovers(): Promise<{ unreferenced: string[]; openMultipart: number; multipartOnDisk: number; pendingRows: number }> {
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: minio.env.KILN_PRIVATE_S3_BUCKET, Prefix: PREFIX, ContinuationToken }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!.slice(PREFIX.length)));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    const { rows } = await db.query<{ sha256: string }>(
      `SELECT DISTINCT f.sha256 FROM version_files f JOIN model_versions v USING (model, version) WHERE v.status <> 'DELETED'`,
    );
    const referenced = new Set(rows.map((r) => r.sha256));
    // The store's layout (libs/blobstore/src/s3.ts): a marker blobs/sha256/<hex>/<size>-<uuid> names data/<uuid>.
    const named = new Set<string>();
    const unreferenced: string[] = [];
    for (const key of keys) {
      const marker = /^blobs\/sha256\/([0-9a-f]{64})\/\d+-(.+)$/.exec(key);
      if (!marker) continue;
      named.add(`data/${marker[2]}`);
      if (!referenced.has(marker[1])) unreferenced.push(key);
    }
    for (const key of keys) if (!key.startsWith('blobs/') && !named.has(key)) unreferenced.push(key);
    // MinIO lists multipart uploads by exact key only: all of them, then the prefix's.
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: minio.env.KILN_PRIVATE_S3_BUCKET }));
    // MinIO forgets open uploads in its listing after a restart but keeps their parts on disk: count those too.
    const onDisk = await readdir(path.join(minio.dir, 'minio', '.minio.sys', 'multipart'), { recursive: true }).catch(() => []);
    const pending = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pending_blobs');
    return { unreferenced, openMultipart: (uploads.Uploads ?? []).filter((u) => u.Key?.startsWith(PREFIX)).length, multipartOnDisk: onDisk.length, pendingRows: pending.rows[0].n };
  }

  async function assertNothingLeft(what: string): Promise<void> {
    let last: Awaited<ReturnType<typeof leftovers>> | undefined;
    // One lease period, then a sweep: a few periods at most.
    await eventually(`${what}: leftovers swept`, LEASE_SECONDS * 1000 * 8, async () => {
      last = await leftovers();
      return !last.unreferenced.length && !last.openMultipart && !last.multipartOnDisk && !last.pendingRows;
    }).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(last)}`);
    });
  }

  async function waitForLogLine(model: string, version: number, text: string): Promise<void> {
    for await (const e of promiseClient(client).WatchModelVersion({ model, version }, { deadline: Date.now() + 120_000 })) {
      if (e.log?.line.includes(text)) return;
      if (e.version && ['MODEL_VERSION_STATUS_RELEASED', 'MODEL_VERSION_STATUS_FAILED'].includes(e.version.status as string)) {
        assert.fail(`${model} ${version} ended ${e.version.status} before "${text}"`);
      }
    }
  }

  /**
   * A single-file upload of 64 MiB sent at ~25 MiB/s: its parts reach MinIO within a second, and it is still far from
   * done when a fault strikes. `status` is its outcome ('OK' or 'CODE: details').
   */
  function slowUpload(model: string): { status: Promise<string>; partsInMinio(): Promise<void> } {
    const total = 64 * 1024 * 1024;
    let sent = 0;
    const body = new Readable({
      read() {
        if (sent >= total) return this.push(null);
        sent += 1024 * 1024;
        setTimeout(() => this.push(randomBytes(1024 * 1024)), 40);
      },
    });
    const status = promiseClient(client).UploadModel((async function* () {
      yield { header: { model, manifest: '', labels: {}, metadata: {}, format: 'ARCHIVE_FORMAT_FILE' as const, fileName: 'cut.bin', expectedSize: total } };
      for await (const chunk of body) yield { chunk: chunk as Buffer };
    })()).then(() => 'OK', (err: { details?: string }) => `${codeOf(err)}: ${err.details}`).finally(() => body.destroy());
    let settled: string | undefined;
    void status.then((s) => (settled = s));
    return {
      status,
      partsInMinio: () => eventually(`parts of the ${model} upload reach MinIO`, 30_000, async () => {
        if (settled) assert.fail(`the upload ended first: ${settled}`);
        return (await leftovers()).openMultipart > 0;
      }),
    };
  }

  /** A build running in the Docker engine and an upload whose parts are in MinIO, both under way, for a fault. */
  async function buildAndUploadUnderWay(model: string): Promise<{ v: ModelVersion__Output; cut: ReturnType<typeof slowUpload> }> {
    const v = await upload(model, [{ path: 'a.txt', content: `${randomBytes(8).toString('hex')}\n` }], SLOW(3));
    await waitForLogLine(model, Number(v.version), 'kiln-slow-start');
    const cut = slowUpload(model);
    await cut.partsInMinio();
    return { v, cut };
  }

  before(async () => {
    [postgres, minio] = await Promise.all([privatePostgres(), privateMinio()]);
    db = new pg.Pool({ connectionString: postgres.env.KILN_PRIVATE_DATABASE_URL, max: 2 });
    db.on('error', () => {}); // the test stops this Postgres on purpose
    s3 = testS3Client({
      endpoint: minio.env.KILN_PRIVATE_S3_ENDPOINT,
      region: minio.env.KILN_PRIVATE_S3_REGION,
      accessKey: minio.env.KILN_PRIVATE_S3_ACCESS_KEY,
      secretKey: minio.env.KILN_PRIVATE_S3_SECRET_KEY,
    });
    await startKiln();
  });

  after(async () => {
    client?.close();
    await kiln?.stop();
    await db?.end();
    s3?.destroy();
    await Promise.all([postgres?.remove(), minio?.remove()]);
  });

  it('answers garbage frames, a huge name and int64 extremes with their codes, and keeps serving', async () => {
    const v = await upload('frames', [{ path: 'a.txt', content: 'a\n' }]);
    // Not protobuf at all: gRPC's own answer to a request it cannot parse.
    assert.match(await rawUnary(kiln.registry, '/kiln.v1.Registry/GetModelVersion', Buffer.from([0xff, 0xff, 0xff, 0xff])), /^INTERNAL: /);
    // Versions our own client could not send.
    const request = (version: bigint) => getModelVersionRequestBytes('frames', version);
    for (const version of [9223372036854775807n, 9007199254740993n, -1n, -9223372036854775808n]) {
      assert.match(await rawUnary(kiln.registry, '/kiln.v1.Registry/GetModelVersion', request(version)), /^INVALID_ARGUMENT: .*version/, `version ${version}`);
    }
    assert.equal(await rawUnary(kiln.registry, '/kiln.v1.Registry/GetModelVersion', request(BigInt(v.version))), 'OK');

    const huge = 'n'.repeat(128 * 1024);
    const started = Date.now();
    const promises = promiseClient(client);
    assert.equal(await statusOf(promises.GetModelVersion({ model: huge, version: 1 }, { deadline: Date.now() + 10_000 })), 'INVALID_ARGUMENT');
    assert.equal(await statusOf(promises.ListModelVersions({ model: huge, pageSize: 1, pageToken: '', statuses: [], labels: {} }, { deadline: Date.now() + 10_000 })), 'INVALID_ARGUMENT');
    assert.ok(Date.now() - started < 5000, 'answered at once, not at the deadline');
    // The same connection still carries calls.
    assert.equal((await promises.GetModelVersion({ model: 'frames', version: v.version }, { deadline: Date.now() + 5000 })).version, v.version);
    await assertServing();
  });

  it('answers DATA_LOSS for a blob deleted behind its back, and keeps serving', async () => {
    const content = randomBytes(4096);
    const v = await upload('behind-its-back', [{ path: 'weights.bin', content }, { path: 'kept.txt', content: 'kept\n' }]);
    made.pop(); // this version cannot download whole any more
    const digest = sha256(content);
    const listing = await s3.send(new ListObjectsV2Command({ Bucket: minio.env.KILN_PRIVATE_S3_BUCKET, Prefix: `${PREFIX}blobs/sha256/${digest}/` }));
    const marker = listing.Contents?.[0]?.Key;
    assert.ok(marker, 'the blob has a marker');
    await s3.send(new DeleteObjectCommand({ Bucket: minio.env.KILN_PRIVATE_S3_BUCKET, Key: `${PREFIX}data/${marker.split('/').pop()!.replace(/^\d+-/, '')}` }));
    assert.equal(await statusOf(downloadDigests(client, 'behind-its-back', Number(v.version))), 'DATA_LOSS');
    const kept = await downloadDigests(client, 'behind-its-back', Number(v.version), ['kept.txt']);
    assert.equal(kept.get('kept.txt'), sha256(Buffer.from('kept\n')));
    await assertServing();
  });

  it('MinIO down: uploads, downloads and builds UNAVAILABLE or retried, health NOT_SERVING, Postgres reads served; all recovers', async () => {
    const big = randomBytes(24 * 1024 * 1024);
    const released = await upload('s3-outage', [{ path: 'big.bin', content: big }]);
    assert.equal((await waitForBuild(client, 's3-outage', Number(released.version))).version.status, 'MODEL_VERSION_STATUS_RELEASED');

    // A download under way when MinIO goes.
    const downloading = promiseClient(client).DownloadModelVersion({ model: 's3-outage', version: released.version, paths: [] });
    const iterator = downloading[Symbol.asyncIterator]();
    await iterator.next();
    // And an upload under way, its parts in MinIO: MinIO forgets it in its listings once restarted.
    const cut = slowUpload('s3-outage');
    await cut.partsInMinio();
    await minio.crash();
    assert.match(await cut.status, /^UNAVAILABLE: the blob store .* is unavailable/);
    const rest = (async () => {
      for (;;) {
        const { done } = await iterator.next();
        if (done) return;
        await sleep(5);
      }
    })();
    assert.equal(await statusOf(rest), 'UNAVAILABLE');

    assert.equal(await statusOf(uploadModel(client, 's3-outage', [{ path: 'b.txt', content: 'b\n' }])), 'UNAVAILABLE');
    assert.equal(await statusOf(downloadDigests(client, 's3-outage', Number(released.version))), 'UNAVAILABLE');
    // What Postgres alone answers is still answered.
    const got = await promiseClient(client).GetModelVersion({ model: 's3-outage', version: released.version });
    assert.equal(got.status, 'MODEL_VERSION_STATUS_RELEASED');
    await eventually('NOT_SERVING while MinIO is down', 20_000, async () => (await health()) === 'NOT_SERVING');
    await assertServing();

    await minio.start();
    await eventually('SERVING once MinIO is back', 20_000, async () => (await health()) === 'SERVING');
    const after = await upload('s3-outage', [{ path: 'c.txt', content: 'c\n' }]);
    assert.equal((await waitForBuild(client, 's3-outage', Number(after.version))).version.status, 'MODEL_VERSION_STATUS_RELEASED');
    assert.equal((await downloadDigests(client, 's3-outage', Number(released.version))).get('big.bin'), sha256(big));
    await assertNothingLeft('after the MinIO outage');
  });

  it('Postgres down: calls UNAVAILABLE, health NOT_SERVING, a build in flight survives; all recovers', async () => {
    const { v, cut } = await buildAndUploadUnderWay('pg-outage');
    await postgres.crash();
    assert.match(await cut.status, /^UNAVAILABLE: the database .* is unavailable/);
    const promises = promiseClient(client);
    const deadline = () => ({ deadline: Date.now() + 15_000 });
    assert.equal(await statusOf(promises.ListModels({ pageSize: 10, pageToken: '', namePrefix: '' }, deadline())), 'UNAVAILABLE');
    assert.equal(await statusOf(promises.ListModelVersions({ model: 'pg-outage', pageSize: 10, pageToken: '', statuses: [], labels: {} }, deadline())), 'UNAVAILABLE');
    assert.equal(await statusOf(uploadModel(client, 'pg-outage', [{ path: 'b.txt', content: 'b\n' }])), 'UNAVAILABLE');
    assert.equal(await statusOf(promises.DeleteModelVersion({ model: 'frames', version: 1 }, deadline())), 'UNAVAILABLE');
    await eventually('NOT_SERVING while Postgres is down', 20_000, async () => (await health()) === 'NOT_SERVING');
    await sleep(4000); // the build finishes its work meanwhile and cannot record it
    await assertServing();

    await postgres.start();
    await eventually('SERVING once Postgres is back', 30_000, async () => (await health()) === 'SERVING');
    const built = await waitForBuild(client, 'pg-outage', Number(v.version), { timeoutMs: 120_000 });
    assert.equal(built.version.status, 'MODEL_VERSION_STATUS_RELEASED');
    await assertNothingLeft('after the Postgres outage');
  });

  it('kill -9 mid-upload and mid-build: a restarted Kiln sweeps every leftover within a lease and finishes the build', async () => {
    // A build under way, then an upload under way (parts already in MinIO), then SIGKILL.
    const { v, cut } = await buildAndUploadUnderWay('killed');
    await kiln.kill();
    assert.match(await cut.status, /^UNAVAILABLE/);

    await startKiln();
    await assertNothingLeft('after kill -9 mid-upload');
    const built = await waitForBuild(client, 'killed', Number(v.version), { timeoutMs: 120_000 });
    assert.equal(built.version.status, 'MODEL_VERSION_STATUS_RELEASED');
    const versions = await promiseClient(client).ListModelVersions({ model: 'killed', pageSize: 10, pageToken: '', statuses: [], labels: {} });
    assert.deepEqual(versions.versions.map((x) => Number(x.version)), [Number(v.version)], 'the cut upload made no version');
  });

  it('after it all: every version final, nothing left, every released version whole, no unhandled rejection', async () => {
    const { rows } = await db.query<{ model: string; version: number; status: string }>('SELECT model, version::int, status FROM model_versions');
    for (const r of rows) assert.ok(['RELEASED', 'FAILED', 'DELETED'].includes(r.status), `${r.model} ${r.version} is ${r.status}`);
    await assertNothingLeft('at the end');
    for (const m of made) {
      const status = rows.find((r) => r.model === m.model && r.version === m.version)?.status;
      if (status !== 'RELEASED') continue;
      assert.deepEqual(await downloadDigests(client, m.model, m.version), m.files, `${m.model} ${m.version} downloads byte for byte`);
    }
    for (const output of outputs) assert.doesNotMatch(output(), /unhandled rejection/i);
  });
});
