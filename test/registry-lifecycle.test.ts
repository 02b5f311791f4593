// End-to-end tests of the registry's robustness against the real Postgres and MinIO that scripts/test-env starts:
// blobs of a delete that died half-way are swept, failed calls log their model and version, a cancelled download
// lets go of its blob, SIGTERM lets force-cancelled uploads clean up, and an unreachable inference service fails an
// upload fast with nothing left behind.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readlink, rm } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { registryClient, type RegistryClient } from '@kiln/api';
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import { openBlobStore } from '@kiln/blobstore/open';
import type { BlobStore } from '@kiln/blobstore';
import { tarOf } from '@kiln/archive/testing';
import { createLogger, type Logger } from '@kiln/log';
import { startRegistry } from '../services/registry/src/index';
import { startInference } from '../services/inference/src/index';
import { releaseUpload, sweepLeftovers } from '../services/registry/src/gc';
import { PostgresStore } from '../services/registry/src/store/postgres';
import { configFrom, emptyS3Prefix, freePort, realServersEnv, testS3Env } from './helpers/test-config';
import { startKilnProcess } from './helpers/kiln-process';
import { assertGrpcError, unary, uploadStream } from './helpers/grpc';

const MiB = 1024 ** 2;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Registry {
  env: Record<string, string>;
  client: RegistryClient;
  blobs: BlobStore;
  db: pg.Pool;
  stop(): Promise<void>;
}

/** Inference and a registry in this process on a fresh database and S3 prefix (`env` overrides any variable). */
async function startRegistryWithInference(log: Logger, env: Record<string, string> = {}): Promise<Registry> {
  const base = await realServersEnv(env);
  const inference = await startInference(configFrom(base), log);
  const full: Record<string, string> = { ...base, KILN_INFERENCE_ADDRESS: inference.address, ...env };
  const config = configFrom(full);
  const registry = await startRegistry(config, log);
  const client = registryClient(registry.address);
  const db = new pg.Pool({ connectionString: full.DATABASE_URL, max: 2 });
  return {
    env: full,
    client,
    blobs: await openBlobStore(config.blobs),
    db,
    async stop() {
      client.close();
      await registry.stop();
      await inference.stop();
      await db.end();
      if (config.blobs.kind === 's3') await emptyS3Prefix(config.blobs.prefix);
      await rm(full.KILN_DATA_DIR, { recursive: true, force: true });
    },
  };
}

describe('registry lifecycle on real Postgres and MinIO', () => {
  let r: Registry;
  const log = createLogger('test', process.env.KILN_TEST_LOG_LEVEL ?? 'warn');

  before(async () => {
    r = await startRegistryWithInference(log);
  });
  after(() => r.stop());

  it('the sweep collects the blobs of a delete that died before collecting them, keeping blobs other versions use', async () => {
    const shared = randomBytes(4096);
    const onlyV1 = randomBytes(4096);
    const onlyV2 = randomBytes(4096);
    await uploadStream(r.client, { model: 'half-deleted' }, await tarOf([{ name: 'shared.bin', content: shared }, { name: 'v1.bin', content: onlyV1 }]));
    await uploadStream(r.client, { model: 'half-deleted' }, await tarOf([{ name: 'shared.bin', content: shared }, { name: 'v2.bin', content: onlyV2 }]));
    // The crash window: the delete's transaction committed (an hour ago), its collection never ran.
    await r.db.query(`UPDATE model_versions SET status = 'DELETED', delete_time = now() - interval '1 hour' WHERE model = 'half-deleted' AND version = 1`);
    assert.ok(await r.blobs.stat(sha256(onlyV1)), 'the leaked blob is there before the sweep');
    await assertGrpcError(unary(r.client, 'DeleteModelVersion', { model: 'half-deleted', version: 1 }), 'NOT_FOUND', /already deleted/);

    await sweepLeftovers({ store: new PostgresStore(r.db), blobs: r.blobs }, log);
    assert.equal(await r.blobs.stat(sha256(onlyV1)), null, 'the blob only the deleted version used is collected');
    assert.ok(await r.blobs.stat(sha256(shared)), 'the blob version 2 still uses stays');
    assert.ok(await r.blobs.stat(sha256(onlyV2)), "version 2's own blob stays");
    const { rows } = await r.db.query(`SELECT version, blobs_collected FROM model_versions WHERE model = 'half-deleted' ORDER BY version`);
    assert.deepEqual(rows, [{ version: 1, blobs_collected: true }, { version: 2, blobs_collected: false }]);
  });

  it('the sweep keeps a deleted version\'s blob that an upload in progress has just referenced', async () => {
    const reused = randomBytes(4096);
    await uploadStream(r.client, { model: 'reused-blob', fileName: 'w.bin' }, reused);
    await r.db.query(`UPDATE model_versions SET status = 'DELETED', delete_time = now() - interval '1 hour' WHERE model = 'reused-blob'`);
    // What an upload does under the blob's lock before its blob becomes visible: a pending reference.
    await r.db.query('INSERT INTO pending_blobs (upload_id, sha256) VALUES (gen_random_uuid(), $1)', [sha256(reused)]);
    await sweepLeftovers({ store: new PostgresStore(r.db), blobs: r.blobs }, log);
    assert.ok(await r.blobs.stat(sha256(reused)), 'the blob an upload references is kept');
    await r.db.query('DELETE FROM pending_blobs WHERE sha256 = $1', [sha256(reused)]);
  });

  it('an upload whose release fails to delete a blob keeps its reference, so a later release (the sweep) collects it', async () => {
    const staged = randomBytes(4096);
    await uploadStream(r.client, { model: 'release-fails', fileName: 'w.bin' }, staged);
    // The blob as a failed upload leaves it: referenced by that upload only.
    await r.db.query(`UPDATE model_versions SET status = 'DELETED', blobs_collected = true WHERE model = 'release-fails'`);
    const { rows: [{ id }] } = await r.db.query('INSERT INTO pending_blobs (upload_id, sha256) VALUES (gen_random_uuid(), $1) RETURNING upload_id AS id', [sha256(staged)]);
    const failingDelete: BlobStore = Object.assign(Object.create(r.blobs), { delete: async () => { throw new Error('S3 is down'); } });
    await assert.rejects(releaseUpload({ store: new PostgresStore(r.db), blobs: failingDelete }, id, log), /S3 is down/);
    const pending = await r.db.query('SELECT 1 FROM pending_blobs WHERE upload_id = $1', [id]);
    assert.equal(pending.rowCount, 1, 'the reference outlives the failed delete');
    assert.ok(await r.blobs.stat(sha256(staged)));

    await releaseUpload({ store: new PostgresStore(r.db), blobs: r.blobs }, id, log);
    assert.equal(await r.blobs.stat(sha256(staged)), null, 'collected by the next release');
    assert.equal((await r.db.query('SELECT 1 FROM pending_blobs WHERE upload_id = $1', [id])).rowCount, 0);
  });

  it('a delete that collects at once records it, so the sweep does not look at the version again', async () => {
    const own = randomBytes(4096);
    const v = await uploadStream(r.client, { model: 'deleted-whole', fileName: 'w.bin' }, own);
    await unary<unknown, ModelVersion__Output>(r.client, 'DeleteModelVersion', { model: 'deleted-whole', version: v.version });
    assert.equal(await r.blobs.stat(sha256(own)), null);
    const { rows } = await r.db.query(`SELECT blobs_collected FROM model_versions WHERE model = 'deleted-whole'`);
    assert.equal(rows[0].blobs_collected, true);
  });
});

describe('registry log lines name the model and version of failed calls', () => {
  let r: Registry;
  const lines: Array<Record<string, unknown>> = [];

  before(async () => {
    // The registry's log as the JSON lines pino writes, parsed as they come.
    const out = new PassThrough();
    let rest = '';
    out.on('data', (b: Buffer) => {
      const parts = (rest + b.toString()).split('\n');
      rest = parts.pop()!;
      for (const p of parts) if (p) lines.push(JSON.parse(p));
    });
    r = await startRegistryWithInference(pino({ level: 'info', base: { service: 'registry' } }, out));
  });
  after(() => r.stop());

  const failed = (rpc: string) => lines.filter((l) => l.msg === 'call failed' && l.rpc === `kiln.v1.Registry/${rpc}`);

  it('a failed GetModelVersion and DeleteModelVersion log the model and version they asked for', async () => {
    await assertGrpcError(unary(r.client, 'GetModelVersion', { model: 'logged-model', version: 7 }), 'NOT_FOUND', /logged-model/);
    await assertGrpcError(unary(r.client, 'DeleteModelVersion', { model: 'logged-model', version: 3 }), 'NOT_FOUND', /logged-model/);
    assert.deepEqual(failed('GetModelVersion').map((l) => [l.model, l.version, l.code]), [['logged-model', 7, 'NOT_FOUND']]);
    assert.deepEqual(failed('DeleteModelVersion').map((l) => [l.model, l.version, l.code]), [['logged-model', 3, 'NOT_FOUND']]);
  });

  it('a rejected upload logs the model its header named, on every line about it', async () => {
    const bad = await tarOf([{ name: 'ok.bin', content: Buffer.from('fine') }, { name: '../escape.bin', content: Buffer.from('x') }]);
    await assertGrpcError(uploadStream(r.client, { model: 'logged-upload' }, bad), 'INVALID_ARGUMENT', /escape/);
    const rejected = failed('UploadModel');
    assert.deepEqual(rejected.map((l) => [l.model, l.code]), [['logged-upload', 'INVALID_ARGUMENT']]);
    const aboutUpload = lines.filter((l) => l.upload !== undefined || l.rpc === 'kiln.v1.Registry/UploadModel');
    assert.ok(aboutUpload.length >= 1);
    for (const l of aboutUpload) assert.equal(l.model, 'logged-upload', JSON.stringify(l));
  });
});

describe('a cancelled download lets go of what it reads', () => {
  let r: Registry;
  before(async () => {
    // The local blob store, so what the registry holds open is visible as this process's file descriptors.
    r = await startRegistryWithInference(createLogger('test', process.env.KILN_TEST_LOG_LEVEL ?? 'warn'), { KILN_S3_BUCKET: '' });
  });
  after(() => r.stop());

  /** Open file descriptors of this process (where the registry runs) on files of the local blob store. */
  async function openBlobFiles(): Promise<string[]> {
    const blobDir = `${r.env.KILN_DATA_DIR}/blobs`;
    const targets = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
    return targets.filter((t) => t.startsWith(blobDir));
  }

  it('cancelling after the first message closes the blob the server was streaming', async () => {
    const v = await uploadStream(r.client, { model: 'big-download', fileName: 'weights.bin' }, randomBytes(24 * MiB));
    assert.deepEqual(await openBlobFiles(), [], 'nothing open before the download');
    const call = r.client.DownloadModelVersion({ model: 'big-download', version: v.version });
    call.on('error', () => {}); // our own cancel
    await new Promise((resolve) => call.once('data', resolve));
    call.pause();
    assert.equal((await openBlobFiles()).length, 1, 'the server is reading the blob');
    call.cancel();
    const deadline = Date.now() + 5000;
    let open = await openBlobFiles();
    while (open.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      open = await openBlobFiles();
    }
    assert.deepEqual(open, [], 'the blob is closed once the client has cancelled');
  });
});

describe('SIGTERM', () => {
  it('during an upload and a watch: exits 0 after the grace period, the upload leaving no version, object or multipart upload', async () => {
    const prefix = `lifecycle/${randomBytes(6).toString('hex')}/`;
    const graceMs = 3000;
    const kiln = await startKilnProcess({
      env: {
        KILN_S3_PREFIX: prefix,
        KILN_SHUTDOWN_GRACE_MS: String(graceMs),
        // No builder answers the registry: the watched version stays BUILDING, so its watch is open at SIGTERM.
        KILN_BUILDER_ADDRESS: `127.0.0.1:${await freePort()}`,
        KILN_LOG_LEVEL: 'info',
      },
    });
    const client = registryClient(kiln.registry);
    const blobs = await openBlobStore(configFrom(testS3Env(prefix)).blobs);
    const db = new pg.Pool({ connectionString: kiln.databaseUrl, max: 1 });
    try {
      const kept = Buffer.from('the watched version');
      const v = await uploadStream(client, { model: 'watched', fileName: 'm.bin' }, kept);
      const watch = client.WatchModelVersion({ model: 'watched', version: v.version });
      const watchEnded = new Promise<number | undefined>((resolve) => {
        watch.on('data', () => {});
        watch.on('error', (err: { code?: number }) => resolve(err.code));
        watch.on('end', () => resolve(undefined));
      });

      // An upload that stalls half-way through a 64 MiB file: its multipart upload is open at SIGTERM.
      const archive = await tarOf([{ name: 'big.bin', content: Buffer.alloc(64 * MiB, 7) }]);
      const call = client.UploadModel(() => {});
      const uploadEnded = new Promise<number | undefined>((resolve) => {
        call.on('status', (s: { code: number }) => resolve(s.code));
      });
      call.write({ header: { model: 'interrupted', format: 'ARCHIVE_FORMAT_TAR' } });
      for (let at = 0; at < 20 * MiB; at += MiB) call.write({ chunk: archive.subarray(at, at + MiB) });
      const deadline = Date.now() + 20_000;
      while ((await blobs.listIncomplete()) === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
      assert.ok((await blobs.listIncomplete()) > 0, 'the upload has a multipart upload open');

      const sent = Date.now();
      process.kill(kiln.pid, 'SIGTERM');
      let exit: RegExpMatchArray | null = null;
      while (!(exit = kiln.output().match(/kiln exited: code (\S+),/)) && Date.now() - sent < 30_000) {
        await new Promise((res) => setTimeout(res, 50));
      }
      const tookMs = Date.now() - sent;
      assert.equal(exit?.[1], '0', `kiln exits 0; output:\n${kiln.output().slice(-4000)}`);
      assert.ok(tookMs < graceMs + 5000, `kiln exited ${tookMs} ms after SIGTERM (grace ${graceMs} ms); output:\n${kiln.output().slice(-6000)}`);
      assert.equal(await watchEnded, 14, 'the watch ends with UNAVAILABLE, to watch again elsewhere');
      assert.notEqual(await uploadEnded, 0, 'the stalled upload did not complete');

      const versions = await db.query(`SELECT count(*)::int AS n FROM model_versions WHERE model = 'interrupted'`);
      assert.equal(versions.rows[0].n, 0, 'no version of the interrupted upload');
      const pending = await db.query('SELECT count(*)::int AS n FROM pending_blobs');
      assert.equal(pending.rows[0].n, 0, 'the upload released its references');
      const stored: string[] = [];
      for await (const b of blobs.list()) stored.push(b.digest);
      assert.deepEqual(stored, [sha256(kept)], 'only the watched version\'s blob is stored');
      assert.equal(await blobs.listIncomplete(), 0, 'no temp object or open multipart upload is left');
      assert.doesNotMatch(kiln.output(), /could not release|stop failed/);
    } finally {
      client.close();
      await db.end();
      await kiln.stop();
      await emptyS3Prefix(prefix);
    }
  });
});

describe('the registry and an inference service that is down or slow', () => {
  const log = createLogger('test', process.env.KILN_TEST_LOG_LEVEL ?? 'warn');

  /** No version of the model, no blob, no temp object or open multipart upload. */
  async function assertNothingLeft(r: Registry, model: string): Promise<void> {
    await assertGrpcError(unary(r.client, 'GetModelVersion', { model, version: 0 }), 'NOT_FOUND', new RegExp(model));
    const stored: string[] = [];
    for await (const b of r.blobs.list()) stored.push(b.digest);
    assert.deepEqual(stored, [], 'no blob is left');
    assert.equal(await r.blobs.listIncomplete(), 0, 'no temp object or open multipart upload is left');
    const pending = await r.db.query('SELECT count(*)::int AS n FROM pending_blobs');
    assert.equal(pending.rows[0].n, 0);
  }

  it('an unreachable inference service fails an upload with UNAVAILABLE within seconds, before storing it', async () => {
    const r = await startRegistryWithInference(log, { KILN_INFERENCE_ADDRESS: `127.0.0.1:${await freePort()}` });
    try {
      const started = Date.now();
      const archive = await tarOf([{ name: 'weights.bin', content: randomBytes(16 * MiB) }]);
      await assertGrpcError(uploadStream(r.client, { model: 'no-inference' }, archive), 'UNAVAILABLE', /inference service at 127\.0\.0\.1:\d+ cannot be reached/);
      assert.ok(Date.now() - started < 10_000, `failed after ${Date.now() - started} ms`);
      await assertNothingLeft(r, 'no-inference');
    } finally {
      await r.stop();
    }
  });

  it('an inference call over KILN_INFERENCE_TIMEOUT_MS fails the upload with DEADLINE_EXCEEDED, leaving nothing', async () => {
    const r = await startRegistryWithInference(log, { KILN_INFERENCE_TIMEOUT_MS: '1' });
    try {
      const archive = await tarOf([{ name: 'weights.bin', content: randomBytes(9 * MiB) }]);
      await assertGrpcError(uploadStream(r.client, { model: 'slow-inference' }, archive), 'DEADLINE_EXCEEDED', /contract inference/);
      await assertNothingLeft(r, 'slow-inference');
    } finally {
      await r.stop();
    }
  });
});
