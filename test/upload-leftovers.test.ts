// End to end: kill -9 of a registry mid-upload, on real Postgres and MinIO. What the dying uploads left (open
// multipart uploads with parts sent, committed blobs nothing uses, pending rows, their leases and records) is swept by
// another registry within a few lease periods, by the ids and keys the uploads recorded; a released version's blob,
// which a dying upload had staged too, is kept.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import tar from 'tar-stream';
import pg from 'pg';
import { ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand } from '@aws-sdk/client-s3';
import { registryClient, type RegistryClient } from '@kiln/api';
import { startKilnProcess, type KilnProcess } from './helpers/kiln-process';
import { uploadStream } from './helpers/grpc';
import { emptyS3Prefix, freshDatabase, requireEnv, testS3Client, type TestDatabase } from './helpers/test-config';

const MiB = 1024 * 1024;
const LEASE_SECONDS = 2;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('a registry killed mid-upload', () => {
  const t = requireEnv('KILN_TEST_S3_BUCKET', 'KILN_TEST_S3_ENDPOINT', 'KILN_TEST_S3_REGION', 'KILN_TEST_S3_ACCESS_KEY', 'KILN_TEST_S3_SECRET_KEY');
  const s3 = testS3Client();
  const prefix = `leftovers/${Date.now().toString(36)}${randomBytes(3).toString('hex')}/`;
  /** Short leases, so the test sees in seconds what takes a minute or so by default; 5 MiB parts. */
  const env = { KILN_UPLOAD_LEASE_SECONDS: String(LEASE_SECONDS), KILN_S3_PART_SIZE: String(5 * MiB) };
  let db: TestDatabase;
  let sql: pg.Pool;
  const processes: KilnProcess[] = [];
  const clients: RegistryClient[] = [];

  before(async () => {
    db = await freshDatabase();
    sql = new pg.Pool({ connectionString: db.url, max: 2 });
    // The database is dropped (its connections terminated) at the end: an idle client told so is no failure.
    sql.on('error', () => {});
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const p of processes) await p.stop().catch(() => {});
    await sql?.end();
    await db?.drop();
    await emptyS3Prefix(prefix);
    s3.destroy();
  });

  /** Every object under the run's prefix, keys relative to it. */
  async function objects(): Promise<string[]> {
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: t.KILN_TEST_S3_BUCKET, Prefix: prefix, ContinuationToken }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!.slice(prefix.length)));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return keys.sort();
  }
  /** Open multipart uploads under the prefix, as MinIO lists them (it takes no Prefix but an exact key). */
  async function listedMultipartUploads(): Promise<number> {
    const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: t.KILN_TEST_S3_BUCKET }));
    return (page.Uploads ?? []).filter((u) => u.Key?.startsWith(prefix)).length;
  }
  /** Whether the multipart upload is still open, asked by its id (what a listing may not show). */
  async function isOpen(key: string, uploadId: string): Promise<boolean> {
    try {
      await s3.send(new ListPartsCommand({ Bucket: t.KILN_TEST_S3_BUCKET, Key: key, UploadId: uploadId }));
      return true;
    } catch (err) {
      if ((err as Error).name === 'NoSuchUpload') return false;
      throw err;
    }
  }
  const count = async (table: string) => (await sql.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;

  it(`leaves nothing a second registry does not sweep within a few ${LEASE_SECONDS} s leases: multipart uploads, objects, pending rows`, async (t) => {
    const first = await startKilnProcess({ databaseUrl: db.url, s3Prefix: prefix, env });
    processes.push(first);
    const client = registryClient(first.registry);
    clients.push(client);

    // A released version's file, which the dying uploads stage too: it must stay.
    const kept = randomBytes(64 * 1024);
    const version = await uploadStream(client, { model: 'kept', fileName: 'weights.bin' }, kept);
    assert.equal(version.version, 1);
    const keptObjects = await objects();
    assert.equal(keptObjects.length, 2, 'the kept blob: its data object and its marker');

    // Three uploads, each with two small files stored (committed blobs and pending rows) and a large one in flight
    // (a multipart upload with parts sent), stalled there when the registry is killed.
    const dying = Array.from({ length: 3 }, (_, i) => {
      const body = new PassThrough();
      const pack = tar.pack();
      pack.pipe(body);
      pack.entry({ name: 'kept.bin' }, kept);
      pack.entry({ name: `own-${i}.bin` }, randomBytes(4096));
      const large = pack.entry({ name: 'large.bin', size: 64 * MiB });
      for (let part = 0; part < 12; part++) large.write(randomBytes(MiB));
      const call = uploadStream(client, { model: `dies-${i}`, format: 'ARCHIVE_FORMAT_TAR' }, body);
      call.catch(() => {}); // it dies with the registry
      return call;
    });
    assert.equal(dying.length, 3);
    const deadline = Date.now() + 60_000;
    const recordedUploads = async () =>
      (await sql.query(`SELECT key, multipart_upload_id FROM staged_objects WHERE multipart_upload_id <> ''`)).rows as Array<{ key: string; multipart_upload_id: string }>;
    while ((await recordedUploads()).length < 3 || (await count('pending_blobs')) < 6) {
      if (Date.now() > deadline) assert.fail(`the uploads never got going\n${first.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1000)); // parts on their way
    const multipart = await recordedUploads();
    for (const u of multipart) assert.ok(await isOpen(u.key, u.multipart_upload_id), 'an open multipart upload, recorded by id');
    assert.ok((await listedMultipartUploads()) >= 3);
    assert.ok((await objects()).length > keptObjects.length, 'the dying uploads\' own blobs are stored');

    await first.kill();
    const killedAt = Date.now();

    const second = await startKilnProcess({
      script: 'services/registry/src/main.ts',
      services: ['kiln.v1.Registry'],
      databaseUrl: db.url,
      s3Prefix: prefix,
      env,
    });
    processes.push(second);
    const servingAt = Date.now();

    const left = async () => ({
      open: (await Promise.all(multipart.map((u) => isOpen(u.key, u.multipart_upload_id)))).filter(Boolean).length,
      listed: await listedMultipartUploads(),
      objects: (await objects()).filter((k) => !keptObjects.includes(k)).length,
      pending: await count('pending_blobs'),
      staged: await count('staged_objects'),
      leases: await count('upload_leases'),
    });
    const none = { open: 0, listed: 0, objects: 0, pending: 0, staged: 0, leases: 0 };
    const sweepDeadline = servingAt + 4 * LEASE_SECONDS * 1000;
    let now = await left();
    while (JSON.stringify(now) !== JSON.stringify(none) && Date.now() < sweepDeadline) {
      await new Promise((r) => setTimeout(r, 100));
      now = await left();
    }
    const sweptAt = Date.now();
    assert.deepEqual(now, none, `left after ${4 * LEASE_SECONDS} s of the second registry\n${second.output()}`);
    t.diagnostic(`swept ${(sweptAt - killedAt) / 1000} s after the kill, ${(sweptAt - servingAt) / 1000} s after the second registry served`);
    assert.deepEqual(await objects(), keptObjects, 'the released version\'s blob is untouched');
    assert.equal(sha256(kept), version.files[0].sha256);
  });
});
