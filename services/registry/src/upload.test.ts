// The upload use case on the in-memory store, without servers: what a version keeps, what a failed upload leaves.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { tarOf } from '@kiln/archive/testing';
import { createLogger } from '@kiln/log';
import type { StagingObject } from '@kiln/blobstore';
import { sweepLapsedUploads } from './gc';
import { MemoryStore } from './store/memory';
import { ingestUpload, type StagedBlob, type UploadBlobStore, type UploadDeps, type UploadHeaderInput } from './upload';

const log = createLogger('test', 'silent');
/** Long enough that no renewal fires during a test: the store's clock is what moves. */
const LEASE = 3600 * 1000;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Blobs in a map; staged ones are invisible until committed, and their temp objects are in `open` until then.
 * `down` fails every call as an S3 outage would; `onStage` runs once a put has reported what it opens. */
class FakeBlobs implements UploadBlobStore {
  readonly visible = new Map<string, Buffer>();
  readonly open = new Set<string>();
  down = false;
  onStage?: () => Promise<void>;
  #next = 0;
  async stage(source: Readable, options: { onStaging?(object: StagingObject): Promise<void> } = {}): Promise<StagedBlob> {
    if (this.down) throw new Error('S3 is down');
    const key = `data/${++this.#next}`;
    await options.onStaging?.({ key });
    this.open.add(key);
    await this.onStage?.();
    if (this.down) throw new Error('S3 is down'); // went down mid-put: its temp object stays
    const chunks: Buffer[] = [];
    for await (const c of source) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    const digest = sha256(bytes);
    return {
      digest,
      size: bytes.length,
      commit: async () => {
        this.open.delete(key);
        this.visible.set(digest, bytes);
      },
      abort: async () => void this.open.delete(key),
    };
  }
  async delete(digest: string): Promise<void> {
    if (this.down) throw new Error('S3 is down');
    this.visible.delete(digest);
  }
  async discardStaging(object: StagingObject): Promise<void> {
    if (this.down) throw new Error('S3 is down');
    this.open.delete(object.key);
  }
}

function deps(store: MemoryStore, blobs: FakeBlobs, overrides: Partial<UploadDeps> = {}): UploadDeps {
  return {
    store,
    blobs,
    limits: { maxFileBytes: 1 << 20, maxTotalBytes: 1 << 22, maxFiles: 100 },
    log,
    inferContract: async () => ({ contract: null, metadata: {} }),
    onVersionCreated: async () => {},
    uploadLeaseMs: LEASE,
    ...overrides,
  };
}

/** Remembers the uploads that took a lease. */
class LeaseWatchingStore extends MemoryStore {
  readonly leased: string[] = [];
  override async takeUploadLease(uploadId: string, ms: number): Promise<void> {
    this.leased.push(uploadId);
    await super.takeUploadLease(uploadId, ms);
  }
}

const header = (model: string): UploadHeaderInput => ({ model, manifest: '', labels: {}, metadata: {}, format: 'tar', fileName: '', expectedSize: 0 });

describe('an upload on the in-memory store', () => {
  it('becomes version 1 with its files, keeps the blobs its version uses, and holds no pending reference after', async () => {
    const store = new MemoryStore();
    const blobs = new FakeBlobs();
    const body = await tarOf([{ name: 'model.bin', content: Buffer.from('weights') }, { name: 'notes.txt', content: Buffer.from('notes') }]);
    const v = await ingestUpload(header('m'), Readable.from([body]), deps(store, blobs), new AbortController().signal);
    assert.deepEqual([v.version, v.status, v.files.map((f) => f.path)], [1, 'BUILDING', ['model.bin', 'notes.txt']]);
    assert.deepEqual([...blobs.visible.keys()].sort(), [sha256('weights'), sha256('notes')].sort());
    assert.equal(await store.isBlobReferenced(sha256('weights')), true);
    assert.deepEqual(await store.stalePendingUploads(-3600_000), [], 'no upload holds references any more');
  });

  it('removes the blobs of files the manifest\'s payload leaves out', async () => {
    const store = new MemoryStore();
    const blobs = new FakeBlobs();
    const body = await tarOf([
      { name: 'kiln.yaml', content: Buffer.from('payload: [model.bin]\n') },
      { name: 'model.bin', content: Buffer.from('weights') },
      { name: 'scratch.tmp', content: Buffer.from('scratch') },
    ]);
    const v = await ingestUpload(header('m'), Readable.from([body]), deps(store, blobs), new AbortController().signal);
    assert.deepEqual(v.files.map((f) => f.path), ['model.bin']);
    assert.deepEqual([v.excludedPaths, v.excludedFileCount], [['scratch.tmp'], 1], 'the version says what was left out (not the manifest)');
    assert.deepEqual((await store.getVersion('m', v.version))?.excludedPaths, ['scratch.tmp']);
    assert.equal(blobs.visible.has(sha256('scratch')), false);
    assert.equal(blobs.visible.has(sha256('weights')), true);
  });

  it('leaves no version and no blob when the version\'s transaction fails (its build cannot be enqueued)', async () => {
    const store = new MemoryStore();
    const blobs = new FakeBlobs();
    const body = await tarOf([{ name: 'model.bin', content: Buffer.from('weights') }]);
    const failing = deps(store, blobs, { onVersionCreated: async () => { throw new Error('the build queue did not take the build'); } });
    await assert.rejects(ingestUpload(header('m'), Readable.from([body]), failing, new AbortController().signal), /did not take the build/);
    assert.equal(await store.modelExists('m'), false);
    assert.equal(blobs.visible.size, 0);
  });

  it('keeps a blob another version uses when a failed upload had stored it too', async () => {
    const store = new MemoryStore();
    const blobs = new FakeBlobs();
    const shared = await tarOf([{ name: 'model.bin', content: Buffer.from('shared') }]);
    await ingestUpload(header('m'), Readable.from([shared]), deps(store, blobs), new AbortController().signal);
    const failing = deps(store, blobs, { inferContract: async () => { throw new Error('inference is down'); } });
    await assert.rejects(ingestUpload(header('m'), Readable.from([shared]), failing, new AbortController().signal), /inference is down/);
    assert.equal(blobs.visible.has(sha256('shared')), true);
    assert.equal((await store.getVersion('m', 0))?.version, 1);
  });

  it('holds a lease and records each object before its bytes go, and leaves neither once it ends', async () => {
    const store = new LeaseWatchingStore();
    const blobs = new FakeBlobs();
    const seen: unknown[] = [];
    // What a sweep would find were the process to die as a put begins: the object recorded under a live lease.
    blobs.onStage = async () => void seen.push(await store.stagedObjects(store.leased[0]));
    const body = await tarOf([{ name: 'a.bin', content: Buffer.from('a') }, { name: 'b.bin', content: Buffer.from('b') }]);
    await ingestUpload(header('m'), Readable.from([body]), deps(store, blobs), new AbortController().signal);
    assert.equal(store.leased.length, 1, 'one lease for the upload');
    assert.deepEqual(seen, [[{ key: 'data/1' }], [{ key: 'data/2' }]], 'each object recorded while open, forgotten once committed');
    assert.deepEqual(await store.stagedObjects(store.leased[0]), []);
    assert.equal(await store.renewUploadLease(store.leased[0], LEASE), false, 'the lease ended with the upload');
    assert.deepEqual([...blobs.open], []);
  });

  it('failing while S3 is down keeps its lease and records, and the sweep removes what it left once the lease lapses', async () => {
    let now = 0;
    const store = new MemoryStore({ now: () => now });
    const blobs = new FakeBlobs();
    let puts = 0;
    blobs.onStage = async () => {
      if (++puts === 2) blobs.down = true; // the second file's put: S3 goes down with it open
    };
    const body = await tarOf([{ name: 'a.bin', content: Buffer.from('first') }, { name: 'b.bin', content: Buffer.from('second') }]);
    await assert.rejects(ingestUpload(header('m'), Readable.from([body]), deps(store, blobs), new AbortController().signal), /S3 is down/);
    assert.equal(blobs.open.size, 1, 'the put S3 failed under is still open');
    assert.ok(blobs.visible.has(sha256('first')), 'and the first file\'s blob, which nothing uses, could not be removed');

    blobs.down = false; // S3 is back
    now += LEASE / 2;
    await sweepLapsedUploads({ store, blobs }, LEASE, log);
    assert.equal(blobs.open.size, 1, 'not before the lease lapses');
    now += LEASE / 2 + 1;
    await sweepLapsedUploads({ store, blobs }, LEASE, log);
    assert.deepEqual([...blobs.open], []);
    assert.equal(blobs.visible.size, 0);
    assert.equal(await store.isBlobReferenced(sha256('first')), false);
  });

  it('stops with UNAVAILABLE and makes no version once a sweep has claimed its lapsed lease', async () => {
    let now = 0;
    const store = new MemoryStore({ now: () => now });
    const blobs = new FakeBlobs();
    let swept = false;
    blobs.onStage = async () => {
      if (swept) return;
      swept = true;
      // The registry lost the database for a lease period (no renewal got through): another registry sweeps.
      now += LEASE + 1;
      await sweepLapsedUploads({ store, blobs }, LEASE, log);
    };
    const body = await tarOf([{ name: 'model.bin', content: Buffer.from('weights') }]);
    await assert.rejects(
      ingestUpload(header('m'), Readable.from([body]), deps(store, blobs), new AbortController().signal),
      (err: Error & { code?: string }) => err.code === 'UNAVAILABLE' && /lease/.test(err.message),
    );
    assert.equal(await store.modelExists('m'), false);
    assert.equal(blobs.visible.size, 0);
  });
});

describe('an empty upload', () => {
  it('is INVALID_ARGUMENT, not a version of zero bytes: a header with no bytes, or only empty files', async () => {
    const store = new MemoryStore();
    const blobs = new FakeBlobs();
    const file: UploadHeaderInput = { ...header('m'), format: 'file', fileName: 'model.onnx' };
    await assert.rejects(ingestUpload(file, Readable.from([]), deps(store, blobs), new AbortController().signal), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.equal(err.message, 'archive: the model is empty: model.onnx holds no bytes, and a model needs at least one');
      return true;
    });
    const empties = await tarOf([{ name: 'a.bin' }, { name: 'b.bin' }]);
    await assert.rejects(ingestUpload(header('m'), Readable.from([empties]), deps(store, blobs), new AbortController().signal), /archive: the model is empty: its 2 files \(a\.bin, b\.bin\) hold no bytes/);
    const payload = await tarOf([{ name: 'kiln.yaml', content: Buffer.from('payload: [empty.bin]\n') }, { name: 'empty.bin' }]);
    await assert.rejects(ingestUpload(header('m'), Readable.from([payload]), deps(store, blobs), new AbortController().signal), /kiln\.yaml: payload: the model is empty: empty\.bin holds no bytes/);
    assert.equal(await store.modelExists('m'), false);
    assert.equal(blobs.visible.size, 0);
  });
});
