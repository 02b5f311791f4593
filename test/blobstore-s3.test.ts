// The blob store conformance suite, and the S3-only paths, against the real MinIO that scripts/test-env starts.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { blobStoreConformance } from '@kiln/blobstore/conformance';
import { S3BlobStore, type S3BlobStoreOptions } from '@kiln/blobstore/s3';

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

    it('a blob over the copy threshold is moved into place with a multipart copy', async () => {
      const store = open({ multipartCopyThreshold: 6 * MiB, multipartCopyPartSize: 5 * MiB });
      const bytes = randomBytes(13 * MiB + 5);
      const info = await store.put(Readable.from([bytes]));
      assert.equal(info.digest, createHash('sha256').update(bytes).digest('hex'));
      assert.deepEqual(await store.stat(info.digest), { size: bytes.length });
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

    it('objects land under <prefix>blobs/sha256/<hex> with nothing left under <prefix>tmp/', async () => {
      const store = open();
      const info = await store.put(Readable.from([Buffer.from('layout')]));
      const keys: string[] = [];
      const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
      const page = await store.client.send(new ListObjectsV2Command({ Bucket: store.bucket, Prefix: store.prefix }));
      for (const object of page.Contents ?? []) keys.push(object.Key!.slice(store.prefix.length));
      assert.deepEqual(keys, [`blobs/sha256/${info.digest}`]);
    });
  });
}
