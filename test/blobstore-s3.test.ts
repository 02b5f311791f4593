// The blob store conformance suite, and the S3-only paths, against the real MinIO that scripts/test-env starts.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { blobStoreConformance } from '@kiln/blobstore/conformance';
import { ListObjectsV2Command, ListPartsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { StagingObject } from '@kiln/blobstore';
import { S3BlobStore, type S3BlobStoreOptions } from '@kiln/blobstore/s3';
import { startTcpProxy } from './helpers/tcp-proxy';

const VARS = [
  'KILN_TEST_S3_ENDPOINT',
  'KILN_TEST_S3_BUCKET',
  'KILN_TEST_S3_REGION',
  'KILN_TEST_S3_ACCESS_KEY',
  'KILN_TEST_S3_SECRET_KEY',
] as const;
const missing = VARS.filter((name) => !process.env[name]);
const MiB = 1024 * 1024;

if (missing.length > 0) {
  // Not a skip: a run without the servers must not pass as if S3 had been tested.
  it('the S3 blob store tests need the servers of scripts/test-env', () => {
    assert.fail(`${missing.join(', ')} not set: run the tests through scripts/test (npm test), which starts MinIO`);
  });
} else {
  // Every store gets its own prefix in the shared bucket, so runs and tests never see each other's objects.
  const runPrefix = `blobstore-test/${randomUUID()}`;
  const options = (prefix: string): S3BlobStoreOptions => ({
    endpoint: process.env.KILN_TEST_S3_ENDPOINT!,
    bucket: process.env.KILN_TEST_S3_BUCKET!,
    region: process.env.KILN_TEST_S3_REGION!,
    forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.KILN_TEST_S3_ACCESS_KEY!,
      secretAccessKey: process.env.KILN_TEST_S3_SECRET_KEY!,
    },
    prefix: `${runPrefix}/${prefix}`,
  });

  /** Every object under the store's prefix (one page is plenty here), keys relative to the prefix. */
  async function keysOf(store: S3BlobStore): Promise<Array<{ key: string; size: number }>> {
    const page = await store.client.send(new ListObjectsV2Command({ Bucket: store.bucket, Prefix: store.prefix }));
    return (page.Contents ?? []).map((o) => ({ key: o.Key!.slice(store.prefix.length), size: o.Size ?? 0 }));
  }

  async function emptyAndClose(store: S3BlobStore): Promise<void> {
    for await (const { digest } of store.list()) await store.delete(digest);
    await store.cleanupIncomplete(0);
    store.destroy();
  }

  blobStoreConformance('S3 (MinIO)', async () => {
    const store = new S3BlobStore(options(randomUUID()));
    return { store, dispose: () => emptyAndClose(store) };
  });

  describe('S3 blob store specifics', () => {
    const stores: S3BlobStore[] = [];
    const open = (extra: Partial<S3BlobStoreOptions> = {}) => {
      const store = new S3BlobStore({ ...options(randomUUID()), ...extra });
      stores.push(store);
      return store;
    };
    after(async () => {
      for (const store of stores) await emptyAndClose(store);
    });

    it('a server gone in the middle of a multipart put: the put fails UNAVAILABLE naming the store, not with its own read\'s end', async () => {
      const endpoint = new URL(process.env.KILN_TEST_S3_ENDPOINT!);
      const proxy = await startTcpProxy({ host: endpoint.hostname, port: Number(endpoint.port) });
      // Its leftovers are cleaned up through a store on the server itself: this one's way there is cut.
      const direct = open({ partSize: 5 * MiB });
      const store = new S3BlobStore({ ...options(direct.prefix.slice(runPrefix.length + 1)), partSize: 5 * MiB, endpoint: `http://${proxy.address}` });
      try {
        let sent = 0;
        const source = new Readable({
          read() {
            sent += MiB;
            if (sent === 12 * MiB) void proxy.cut(); // two parts on their way: the third never reaches the server
            if (sent > 64 * MiB) this.push(null);
            else setTimeout(() => this.push(randomBytes(MiB)), 5);
          },
        });
        await assert.rejects(store.stage(source), (err: Error & { code?: string }) => {
          assert.equal(err.code, 'UNAVAILABLE', `${err.name}: ${err.message}`);
          assert.match(err.message, /^the blob store \(S3 bucket .*\) is unavailable/);
          return true;
        });
      } finally {
        store.destroy();
        await proxy.close();
      }
    });

    it('cleanupIncomplete keeps a long upload that is still sending parts, however long ago it began', async () => {
      const store = open({ partSize: 5 * MiB });
      const source = new PassThrough();
      const put = store.put(source);
      source.write(randomBytes(6 * MiB)); // part 1 goes out: the multipart upload begins now
      await new Promise((r) => setTimeout(r, 4000));
      source.write(randomBytes(6 * MiB)); // part 2, four seconds later
      await new Promise((r) => setTimeout(r, 1500)); // long enough for part 2 to be stored
      // Begun over 2.5 s ago, but its last part is recent: a live upload, kept.
      assert.equal(await store.cleanupIncomplete(2500), 0);
      source.end(randomBytes(MiB));
      const info = await put;
      assert.equal(info.size, 13 * MiB);
      assert.notEqual(await store.stat(info.digest), null);
    });

    it('discardStaging aborts a multipart upload by its recorded id, where no listing shows it (a restarted MinIO)', async () => {
      const store = open({ partSize: 5 * MiB });
      // As MinIO after a restart: ListMultipartUploads answers without the uploads it still holds.
      store.client.middlewareStack.add(
        (next, context) => async (args) => context.commandName === 'ListMultipartUploadsCommand'
          ? { output: { Uploads: [], $metadata: {} } as never, response: {} }
          : next(args),
        { step: 'initialize', name: 'blindMultipartListing' },
      );
      const reported: StagingObject[] = [];
      const source = new PassThrough();
      const put = store.put(source, { onStaging: async (object) => void reported.push(object) });
      put.catch(() => {}); // awaited below
      source.write(randomBytes(6 * MiB)); // part 1 goes out: the multipart upload is open
      const deadline = Date.now() + 20_000;
      while (!reported.some((o) => o.multipartUploadId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const upload = reported.find((o) => o.multipartUploadId);
      assert.ok(upload, 'the put reported its multipart upload');
      const parts = () => store.client.send(new ListPartsCommand({ Bucket: store.bucket, Key: upload.key, UploadId: upload.multipartUploadId }));
      await parts(); // open
      assert.equal(await store.cleanupIncomplete(0), 0, 'the listing sweep finds nothing to abort');
      await store.discardStaging(upload);
      await assert.rejects(parts(), (err: Error) => err.name === 'NoSuchUpload', 'aborted by its id');
      source.end(randomBytes(MiB));
      await assert.rejects(put);
    });

    it('parts grow every partsPerSizeStep parts (how a blob past 10,000 × partSize fits), and the bytes come back whole', async () => {
      const store = open({ partSize: 5 * MiB, partsPerSizeStep: 2 });
      const bytes = randomBytes(47 * MiB + 11); // parts of 5, 5, 10, 10, 15 and 2 MiB + 11
      const info = await store.put(Readable.from((function* () {
        for (let i = 0; i < bytes.length; i += 3 * MiB) yield bytes.subarray(i, i + 3 * MiB);
      })()));
      assert.equal(info.digest, createHash('sha256').update(bytes).digest('hex'));
      assert.ok((await store.readRange(info.digest, 0, bytes.length)).equals(bytes));
      assert.equal(await store.listIncomplete(), 0);
    });

    it('stores with different prefixes in one bucket do not see each other', async () => {
      const a = open();
      const b = open();
      const info = await a.put(Readable.from([Buffer.from('only in a')]));
      assert.deepEqual(await a.stat(info.digest), { size: 9 });
      assert.equal(await b.stat(info.digest), null);
      const listed = [];
      for await (const blob of b.list()) listed.push(blob);
      assert.deepEqual(listed, []);
    });

    it('commit copies nothing: the bytes stay at <prefix>data/<uuid>, named by an empty marker under the digest', async () => {
      const store = open();
      const bytes = randomBytes(6 * MiB + 3);
      const staged = await store.stage(Readable.from([bytes]));
      const before = await keysOf(store);
      assert.equal(before.length, 1);
      assert.match(before[0].key, /^data\/[0-9a-f-]{36}$/);
      await staged.commit();
      const after = await keysOf(store);
      const uuid = before[0].key.slice('data/'.length);
      assert.deepEqual(after, [
        { key: `blobs/sha256/${staged.digest}/${bytes.length}-${uuid}`, size: 0 },
        { key: `data/${uuid}`, size: bytes.length },
      ]);
    });

    it('another instance deleting or re-putting a blob: a remembered location never serves wrong or stale bytes', async () => {
      const a = open();
      const b = new S3BlobStore({ ...options('unused'), prefix: a.prefix });
      try {
        const bytes = randomBytes(100_000);
        const { digest } = await a.put(Readable.from([bytes]));
        assert.ok((await a.readRange(digest, 0, 10)).equals(bytes.subarray(0, 10)));
        await b.delete(digest);
        await assert.rejects(a.read(digest), (err: { code?: string }) => err.code === 'NOT_FOUND');
        await assert.rejects(a.readRange(digest, 0, 200_000), (err: { code?: string }) => err.code === 'NOT_FOUND');
        await a.put(Readable.from([bytes]));
        assert.ok((await a.readRange(digest, 50, 10)).equals(bytes.subarray(50, 60)));
        await b.delete(digest);
        await b.put(Readable.from([bytes]));
        assert.ok((await a.readRange(digest, 99_990, 10)).equals(bytes.subarray(99_990)), 'a 404 looks the blob up again');
      } finally {
        b.destroy();
      }
    });

    it('two commits of the same bytes racing: one digest listed, readable, and delete leaves no object', async () => {
      const store = open();
      const bytes = randomBytes(6 * MiB);
      const staged = await Promise.all([0, 1, 2].map(() => store.stage(Readable.from([bytes]))));
      await Promise.all(staged.map((s) => s.commit()));
      const listed = [];
      for await (const blob of store.list()) listed.push(blob);
      assert.deepEqual(listed, [{ digest: staged[0].digest, size: bytes.length }]);
      assert.ok((await store.readRange(staged[0].digest, 0, bytes.length)).equals(bytes));
      assert.equal(await store.listIncomplete(), 0);
      await store.delete(staged[0].digest);
      assert.deepEqual(await keysOf(store), []);
    });

    it('a blob stored by the earlier layout (bytes at <prefix>blobs/sha256/<hex>) is still read, listed and deleted', async () => {
      const store = open();
      const bytes = Buffer.from('stored before markers');
      const digest = createHash('sha256').update(bytes).digest('hex');
      await store.client.send(new PutObjectCommand({ Bucket: store.bucket, Key: `${store.prefix}blobs/sha256/${digest}`, Body: bytes }));
      assert.deepEqual(await store.stat(digest), { size: bytes.length });
      assert.ok((await store.readRange(digest, 0, bytes.length)).equals(bytes));
      assert.deepEqual(await store.put(Readable.from([bytes])), { digest, size: bytes.length });
      assert.equal((await keysOf(store)).length, 1, 'a put of the same bytes keeps the stored copy');
      await store.delete(digest);
      assert.deepEqual(await keysOf(store), []);
    });
  });
}
