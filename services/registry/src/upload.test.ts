// The upload use case on the in-memory store, without servers: what a version keeps, what a failed upload leaves.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { tarOf } from '@kiln/archive/testing';
import { createLogger } from '@kiln/log';
import { MemoryStore } from './store/memory';
import { ingestUpload, type StagedBlob, type UploadBlobStore, type UploadDeps, type UploadHeaderInput } from './upload';

const log = createLogger('test', 'silent');
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Blobs in a map; staged ones are invisible until committed. */
class FakeBlobs implements UploadBlobStore {
  readonly visible = new Map<string, Buffer>();
  async stage(source: Readable): Promise<StagedBlob> {
    const chunks: Buffer[] = [];
    for await (const c of source) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    const digest = sha256(bytes);
    return {
      digest,
      size: bytes.length,
      commit: async () => void this.visible.set(digest, bytes),
      abort: async () => {},
    };
  }
  async delete(digest: string): Promise<void> {
    this.visible.delete(digest);
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
    ...overrides,
  };
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
