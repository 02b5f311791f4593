// The GC's rules on the in-memory store, without servers: what each housekeeping job removes and what it keeps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '@kiln/log';
import { MemoryStore } from '../store/memory';
import type { StoredFile } from '../store';
import { collectDeletedVersion, releaseUpload, STALE_UPLOAD_MS, sweepLeftovers, UNCOLLECTED_DELETE_MS } from './index';

const log = createLogger('test', 'silent');
const HOUR = 3600 * 1000;

/** A blob store that is a set of digests; `failDeletes` makes every delete fail as an S3 outage would. */
class FakeBlobs {
  readonly digests = new Set<string>();
  failDeletes = false;
  readonly cleanups: number[] = [];
  constructor(...digests: string[]) {
    for (const d of digests) this.digests.add(d);
  }
  async delete(digest: string): Promise<void> {
    if (this.failDeletes) throw new Error('S3 is down');
    this.digests.delete(digest);
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

  it('does not take the blobs of an upload that keeps marking itself alive', async () => {
    const { store, advance } = setup();
    const blobs = new FakeBlobs('long');
    await store.addPendingBlob('long-upload', 'long');
    advance(STALE_UPLOAD_MS + HOUR);
    await store.touchPendingUpload('long-upload');
    await sweepLeftovers({ store, blobs }, log);
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
