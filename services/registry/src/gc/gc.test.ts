// The GC's rules on the in-memory store, without servers: what each housekeeping job removes and what it keeps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '@kiln/log';
import { MemoryStore } from '../store/memory';
import type { StoredFile } from '../store';
import type { StagingObject } from '@kiln/blobstore';
import {
  collectDeletedVersion, releaseUpload, STALE_UPLOAD_MS, startSweeping, sweepLapsedUploads, sweepLeftovers, UNCOLLECTED_DELETE_MS,
} from './index';

const log = createLogger('test', 'silent');
const HOUR = 3600 * 1000;
/** An upload lease, as KILN_UPLOAD_LEASE_SECONDS's default. */
const LEASE = 60 * 1000;

/** A blob store that is a set of digests and of what puts left open (`key`, or `key#uploadId` for a multipart
 * upload); `failDeletes` makes every delete fail as an S3 outage would. */
class FakeBlobs {
  readonly digests = new Set<string>();
  readonly open = new Set<string>();
  /** Each discardStaging call: what, and with which digest. */
  readonly discarded: Array<[string, string | undefined]> = [];
  failDeletes = false;
  readonly cleanups: number[] = [];
  constructor(...digests: string[]) {
    for (const d of digests) this.digests.add(d);
  }
  async delete(digest: string): Promise<void> {
    if (this.failDeletes) throw new Error('S3 is down');
    this.digests.delete(digest);
  }
  async discardStaging(object: StagingObject, digest?: string): Promise<void> {
    if (this.failDeletes) throw new Error('S3 is down');
    const name = object.multipartUploadId ? `${object.key}#${object.multipartUploadId}` : object.key;
    this.discarded.push([name, digest]);
    this.open.delete(name);
  }
  async cleanupIncomplete(olderThanMs: number): Promise<number> {
    this.cleanups.push(olderThanMs);
    return 0;
  }
}

function setup() {
  let now = Date.parse('2026-12-01T00:00:00Z');
  const store = new MemoryStore({ now: () => now });
  return { store, advance: (ms: number) => (now += ms) };
}

const file = (path: string, sha256: string): StoredFile => ({ path, size: 1, sha256, executable: false });

async function createVersion(store: MemoryStore, model: string, files: StoredFile[]) {
  return store.inTransaction((tx) => tx.insertVersion({ model, files, manifest: '', labels: {}, metadata: {}, contract: null, runtime: '' }));
}

async function deleteVersion(store: MemoryStore, model: string, version: number) {
  const marked = await store.inTransaction((tx) => tx.markDeleted(model, version));
  assert.ok(marked);
  return marked.digests;
}

describe('releasing an upload', () => {
  it('removes the blobs only it referenced, keeps those a version or another upload uses, and drops its references', async () => {
    const { store } = setup();
    const blobs = new FakeBlobs('own', 'in-a-version', 'also-pending');
    await createVersion(store, 'm', [file('a', 'in-a-version')]);
    for (const d of ['own', 'in-a-version', 'also-pending']) await store.addPendingBlob('upload-1', d);
    await store.addPendingBlob('upload-2', 'also-pending');

    await releaseUpload({ store, blobs }, 'upload-1', log);
    assert.deepEqual([...blobs.digests].sort(), ['also-pending', 'in-a-version']);
    assert.deepEqual(await store.pendingDigests('upload-1'), []);
    assert.deepEqual(await store.pendingDigests('upload-2'), ['also-pending']);
  });

  it('keeps the reference of a blob whose delete failed, so a later release collects it', async () => {
    const { store } = setup();
    const blobs = new FakeBlobs('staged');
    await store.addPendingBlob('upload', 'staged');
    blobs.failDeletes = true;
    await assert.rejects(releaseUpload({ store, blobs }, 'upload', log), /S3 is down/);
    assert.deepEqual(await store.pendingDigests('upload'), ['staged'], 'the reference outlives the failed delete');
    assert.ok(blobs.digests.has('staged'));

    blobs.failDeletes = false;
    await releaseUpload({ store, blobs }, 'upload', log);
    assert.equal(blobs.digests.has('staged'), false);
    assert.deepEqual(await store.pendingDigests('upload'), []);
  });
});

describe('collecting a deleted version', () => {
  it('removes the blobs no other version uses, keeps shared ones, and records that it is done', async () => {
    const { store, advance } = setup();
    const blobs = new FakeBlobs('shared', 'only-v1', 'only-v2');
    await createVersion(store, 'm', [file('s', 'shared'), file('one', 'only-v1')]);
    await createVersion(store, 'm', [file('s', 'shared'), file('two', 'only-v2')]);
    const digests = await deleteVersion(store, 'm', 1);

    await collectDeletedVersion({ store, blobs }, 'm', 1, digests, log);
    assert.deepEqual([...blobs.digests].sort(), ['only-v2', 'shared']);
    advance(1);
    assert.deepEqual(await store.uncollectedDeletions(0, 10), [], 'recorded as collected');
  });

  it('keeps a blob an upload in progress has just referenced', async () => {
    const { store } = setup();
    const blobs = new FakeBlobs('reused');
    await createVersion(store, 'm', [file('w', 'reused')]);
    const digests = await deleteVersion(store, 'm', 1);
    await store.inTransaction(async (tx) => {
      await tx.lockBlob('reused');
      await tx.addPendingBlob('upload', 'reused');
    });
    await collectDeletedVersion({ store, blobs }, 'm', 1, digests, log);
    assert.ok(blobs.digests.has('reused'));
  });

  it('stays uncollected when a delete fails, for the sweep to finish', async () => {
    const { store, advance } = setup();
    const blobs = new FakeBlobs('w');
    await createVersion(store, 'm', [file('w', 'w')]);
    const digests = await deleteVersion(store, 'm', 1);
    blobs.failDeletes = true;
    await assert.rejects(collectDeletedVersion({ store, blobs }, 'm', 1, digests, log), /S3 is down/);
    advance(1);
    assert.deepEqual(await store.uncollectedDeletions(0, 10), [{ model: 'm', version: 1, digests: ['w'] }]);
  });
});

describe('the sweep of leftovers', () => {
  it('releases uploads not seen alive for STALE_UPLOAD_MS and leaves younger ones', async () => {
    const { store, advance } = setup();
    const blobs = new FakeBlobs('dead', 'alive');
    await store.addPendingBlob('dead-upload', 'dead');
    advance(STALE_UPLOAD_MS - HOUR);
    await store.addPendingBlob('live-upload', 'alive');
    advance(2 * HOUR);

    await sweepLeftovers({ store, blobs }, log);
    assert.deepEqual([...blobs.digests], ['alive']);
    assert.deepEqual(await store.pendingDigests('dead-upload'), []);
    assert.deepEqual(await store.pendingDigests('live-upload'), ['alive']);
    assert.deepEqual(blobs.cleanups, [STALE_UPLOAD_MS], 'the blob store\'s own leftovers, as old as a stale upload');
  });

  it('leaves a leased upload\'s pending blobs to its lease, however old they are', async () => {
    const { store, advance } = setup();
    const blobs = new FakeBlobs('long');
    await store.takeUploadLease('long-upload', LEASE);
    await store.addPendingBlob('long-upload', 'long');
    for (let t = 0; t < STALE_UPLOAD_MS + HOUR; t += LEASE / 3) {
      advance(LEASE / 3);
      assert.ok(await store.renewUploadLease('long-upload', LEASE));
    }
    await sweepLeftovers({ store, blobs }, log);
    await sweepLapsedUploads({ store, blobs }, LEASE, log);
    assert.ok(blobs.digests.has('long'));
  });

  it('finishes deletes that died over UNCOLLECTED_DELETE_MS ago, every batch of them, and leaves recent ones to their delete', async () => {
    const { store, advance } = setup();
    const blobs = new FakeBlobs();
    for (let i = 1; i <= 250; i++) {
      blobs.digests.add(`blob-${i}`);
      await createVersion(store, 'many', [file('f', `blob-${i}`)]);
      await deleteVersion(store, 'many', i);
    }
    advance(UNCOLLECTED_DELETE_MS + 1);
    blobs.digests.add('recent');
    await createVersion(store, 'recent', [file('f', 'recent')]);
    await deleteVersion(store, 'recent', 1);

    await sweepLeftovers({ store, blobs }, log);
    assert.deepEqual([...blobs.digests], ['recent']);
    advance(1);
    assert.deepEqual(await store.uncollectedDeletions(0, 1000), [{ model: 'recent', version: 1, digests: ['recent'] }]);
  });
});

/** An upload with a lease that has opened objects (`data/<name>`, a multipart upload on the first) and staged blobs. */
async function openUpload(store: MemoryStore, blobs: FakeBlobs, id: string, names: string[], pending: string[]) {
  await store.takeUploadLease(id, LEASE);
  for (const [i, name] of names.entries()) {
    await store.recordStagedObject(id, { key: `data/${name}` });
    blobs.open.add(`data/${name}`);
    if (i === 0) {
      await store.recordStagedObject(id, { key: `data/${name}`, multipartUploadId: `mpu-${name}` });
      blobs.open.add(`data/${name}#mpu-${name}`);
    }
  }
  for (const digest of pending) {
    blobs.digests.add(digest);
    await store.addPendingBlob(id, digest);
  }
}

describe('the sweep of uploads whose lease lapsed', () => {
  it('removes a dead upload\'s multipart uploads and objects by name, its blobs and its lease; a live upload keeps all', async () => {
    const { store, advance } = setup();
    const blobs = new FakeBlobs();
    await openUpload(store, blobs, 'dead', ['d1', 'd2'], ['dead-blob']);
    await store.setStagedDigest('dead', 'data/d2', 'dead-blob'); // staged, and maybe committed, as this digest
    await openUpload(store, blobs, 'live', ['l1'], ['live-blob']);
    advance(LEASE / 2);
    assert.ok(await store.renewUploadLease('live', LEASE));
    advance(LEASE / 2 + 1); // dead's lease has lapsed; live's has half of it left

    await sweepLapsedUploads({ store, blobs }, LEASE, log);
    assert.deepEqual([...blobs.open].sort(), ['data/l1', 'data/l1#mpu-l1']);
    assert.deepEqual([...blobs.digests], ['live-blob']);
    assert.deepEqual(blobs.discarded.find(([name]) => name === 'data/d2'), ['data/d2', 'dead-blob'], 'with its digest: a committed blob stays');
    assert.deepEqual(await store.stagedObjects('dead'), []);
    assert.deepEqual(await store.pendingDigests('dead'), []);
    assert.deepEqual(await store.claimLapsedUploads(LEASE, 10), [], 'no lease left to claim');
    advance(2 * LEASE);
    assert.equal(await store.renewUploadLease('dead', LEASE), false, 'the dead upload\'s lease is gone');
    assert.equal((await store.stagedObjects('live')).length, 2, 'the live upload\'s records are untouched');
    assert.deepEqual(await store.pendingDigests('live'), ['live-blob']);
  });

  it('keeps the records and the claim when S3 is down, and a sweep after the claim lapses finishes', async () => {
    const { store, advance } = setup();
    const blobs = new FakeBlobs();
    await openUpload(store, blobs, 'dead', ['d1'], ['dead-blob']);
    advance(LEASE + 1);
    blobs.failDeletes = true;
    await sweepLapsedUploads({ store, blobs }, LEASE, log); // logs and goes on: the next sweep tries again
    assert.equal((await store.stagedObjects('dead')).length, 2);
    blobs.failDeletes = false;
    advance(LEASE / 2);
    await sweepLapsedUploads({ store, blobs }, LEASE, log);
    assert.equal((await store.stagedObjects('dead')).length, 2, 'claimed by the first sweep for a lease period');
    advance(LEASE / 2 + 1);
    await sweepLapsedUploads({ store, blobs }, LEASE, log);
    assert.deepEqual([...blobs.open], []);
    assert.deepEqual([...blobs.digests], []);
    assert.deepEqual(await store.stagedObjects('dead'), []);
  });

  it('runs every half lease while serving, not only at start and hourly', async () => {
    const store = new MemoryStore();
    const blobs = new FakeBlobs();
    const sweeping = startSweeping({ store, blobs }, log, { uploadLeaseMs: 200 });
    try {
      await new Promise((r) => setTimeout(r, 50)); // the sweeps at start are done
      await store.takeUploadLease('dies-now', 200);
      await store.recordStagedObject('dies-now', { key: 'data/x', multipartUploadId: 'mpu-x' });
      blobs.open.add('data/x#mpu-x');
      const start = Date.now();
      while (blobs.open.size && Date.now() - start < 2000) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual([...blobs.open], [], 'swept within 2 s of a 200 ms lease');
      assert.equal(blobs.cleanups.length, 1, 'the listing backstop ran once, at start');
    } finally {
      await sweeping.stop();
    }
  });
});
