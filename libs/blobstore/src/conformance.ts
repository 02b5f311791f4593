// The one test suite every BlobStore driver must pass (local directory, S3): call it from the driver's test file.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { isKilnError, type ErrorCode } from '@kiln/errors';
import type { BlobInfo, BlobStore, StagingObject } from './index';

const MiB = 1024 * 1024;

export interface StoreUnderTest {
  store: BlobStore;
  /** Removes everything the store wrote (its temp folder, its bucket prefix). */
  dispose(): Promise<void>;
}

export interface ConformanceOptions {
  /** Upper bound on RSS growth while streaming a 300 MiB blob in and out (default 160 MiB). */
  maxRssGrowth?: number;
}

/** Registers the suite under `name`; `open` returns a new, empty store for each test. */
export function blobStoreConformance(
  name: string,
  open: () => Promise<StoreUnderTest>,
  options: ConformanceOptions = {},
): void {
  const maxRssGrowth = options.maxRssGrowth ?? 160 * MiB;

  async function withStore(fn: (store: BlobStore) => Promise<void>): Promise<void> {
    const { store, dispose } = await open();
    try {
      await fn(store);
    } finally {
      await dispose();
    }
  }

  /** The store holds exactly `expected` and nothing half-written. */
  async function assertHolds(store: BlobStore, expected: BlobInfo[]): Promise<void> {
    const listed = await all(store.list());
    assert.deepEqual(sortByDigest(listed), sortByDigest(expected));
    assert.equal(await store.listIncomplete(), 0, 'no temp data or open multipart upload is left');
  }

  describe(`BlobStore conformance: ${name}`, () => {
    it('ping resolves on a store that answers', () =>
      withStore(async (store) => {
        await store.ping(AbortSignal.timeout(5000));
      }));

    it('put stores bytes under their sha256; stat, read, readRange and list see them', () =>
      withStore(async (store) => {
        const bytes = randomBytes(3 * MiB + 17);
        const info = await store.put(Readable.from(chunks(bytes, 64 * 1024)));
        assert.deepEqual(info, { digest: sha256(bytes), size: bytes.length });
        assert.deepEqual(await store.stat(info.digest), { size: bytes.length });
        assert.ok((await collect(await store.read(info.digest))).equals(bytes));
        assert.ok((await store.readRange(info.digest, 1000, 5000)).equals(bytes.subarray(1000, 6000)));
        await assertHolds(store, [info]);
      }));

    it('stage: staged bytes are invisible until commit; abort leaves nothing; commit of known bytes keeps one copy', () =>
      withStore(async (store) => {
        const bytes = randomBytes(2 * MiB + 5);
        const staged = await store.stage(Readable.from(chunks(bytes, 64 * 1024)));
        assert.equal(staged.digest, sha256(bytes));
        assert.equal(await store.stat(staged.digest), null, 'not visible before commit');
        await staged.commit();
        assert.deepEqual(await store.stat(staged.digest), { size: bytes.length });
        const again = await store.stage(Readable.from([bytes]));
        await again.commit();
        const dropped = await store.stage(Readable.from([randomBytes(1000)]));
        assert.ok(await store.listIncomplete() >= 1, 'staged bytes count as incomplete');
        await dropped.abort();
        await assertHolds(store, [{ digest: staged.digest, size: bytes.length }]);
      }));

    it('an empty source stores the empty blob', () =>
      withStore(async (store) => {
        const info = await store.put(Readable.from([]));
        assert.deepEqual(info, { digest: sha256(Buffer.alloc(0)), size: 0 });
        assert.deepEqual(await store.stat(info.digest), { size: 0 });
        assert.equal((await collect(await store.read(info.digest))).length, 0);
        await assertHolds(store, [info]);
      }));

    it('read with a range streams exactly those bytes; a range past the end is INVALID_ARGUMENT', () =>
      withStore(async (store) => {
        const bytes = randomBytes(100_000);
        const { digest } = await store.put(Readable.from([bytes]));
        for (const [offset, length] of [[0, 1], [0, 100_000], [99_999, 1], [12_345, 54_321], [100_000, 0], [5, 0]]) {
          const got = await collect(await store.read(digest, { offset, length }));
          assert.ok(got.equals(bytes.subarray(offset, offset + length)), `range ${offset}+${length}`);
          assert.ok((await store.readRange(digest, offset, length)).equals(got), `readRange ${offset}+${length}`);
        }
        for (const [offset, length] of [[0, 100_001], [99_999, 2], [100_000, 1], [200_000, 10], [100_001, 0], [-1, 5]]) {
          await rejectsWith(store.read(digest, { offset, length }), 'INVALID_ARGUMENT', `read ${offset}+${length}`);
          await rejectsWith(store.readRange(digest, offset, length), 'INVALID_ARGUMENT', `readRange ${offset}+${length}`);
        }
      }));

    it('an absent blob: stat is null, read and readRange are NOT_FOUND, delete is a no-op', () =>
      withStore(async (store) => {
        const digest = sha256(Buffer.from('never stored'));
        assert.equal(await store.stat(digest), null);
        await rejectsWith(store.read(digest), 'NOT_FOUND');
        await rejectsWith(store.read(digest, { offset: 0, length: 1 }), 'NOT_FOUND');
        await rejectsWith(store.read(digest, { offset: 0, length: 0 }), 'NOT_FOUND');
        await rejectsWith(store.readRange(digest, 0, 1), 'NOT_FOUND');
        await store.delete(digest);
      }));

    it('malformed digests are INVALID_ARGUMENT, never a path or key', () =>
      withStore(async (store) => {
        for (const bad of ['', 'abc', `sha256:${'a'.repeat(64)}`, 'A'.repeat(64), `../${'a'.repeat(61)}`]) {
          await rejectsWith(store.stat(bad), 'INVALID_ARGUMENT', bad);
          await rejectsWith(store.read(bad), 'INVALID_ARGUMENT', bad);
          await rejectsWith(store.readRange(bad, 0, 1), 'INVALID_ARGUMENT', bad);
          await rejectsWith(store.delete(bad), 'INVALID_ARGUMENT', bad);
        }
      }));

    it('delete removes the blob, and deleting it again is fine', () =>
      withStore(async (store) => {
        const keep = await store.put(Readable.from([Buffer.from('keep')]));
        const drop = await store.put(Readable.from([Buffer.from('drop')]));
        await store.delete(drop.digest);
        await store.delete(drop.digest);
        assert.equal(await store.stat(drop.digest), null);
        await rejectsWith(store.read(drop.digest), 'NOT_FOUND');
        await assertHolds(store, [keep]);
      }));

    it('putting the same bytes twice keeps one object', () =>
      withStore(async (store) => {
        const bytes = randomBytes(MiB);
        const first = await store.put(Readable.from([bytes]));
        const second = await store.put(Readable.from(chunks(bytes, 1000)));
        assert.deepEqual(second, first);
        await assertHolds(store, [first]);
      }));

    it('concurrent puts of the same content end with one object and nothing left over', () =>
      withStore(async (store) => {
        const bytes = randomBytes(12 * MiB);
        const results = await Promise.all(
          Array.from({ length: 4 }, () => store.put(Readable.from(chunks(bytes, 256 * 1024)))),
        );
        const expected = { digest: sha256(bytes), size: bytes.length };
        for (const info of results) assert.deepEqual(info, expected);
        await assertHolds(store, [expected]);
        assert.ok((await collect(await store.read(expected.digest))).equals(bytes));
      }));

    it('an aborted put rejects with CANCELLED and leaves no object, temp file or multipart upload', () =>
      withStore(async (store) => {
        const controller = new AbortController();
        // Abort well into the stream: an S3 store has a multipart upload open with parts sent by then.
        const source = generated(64 * MiB, { onProduced: (n) => n >= 24 * MiB && controller.abort(), pace: true });
        await rejectsWith(store.put(source.stream, { signal: controller.signal }), 'CANCELLED');
        assert.ok(source.stream.destroyed, 'the source is released');
        await assertHolds(store, []);
      }));

    it('a put with an already aborted signal stores nothing', () =>
      withStore(async (store) => {
        await rejectsWith(store.put(Readable.from([Buffer.from('x')]), { signal: AbortSignal.abort() }), 'CANCELLED');
        await assertHolds(store, []);
      }));

    it('a source that fails mid-stream rejects the put with its error and leaves nothing', () =>
      withStore(async (store) => {
        const boom = new Error('disk on fire');
        const source = generated(64 * MiB, { failAt: 20 * MiB, error: boom });
        await assert.rejects(store.put(source.stream), (err) => err === boom);
        await assertHolds(store, []);
        // A small source failing before the first multipart part too.
        const small = generated(4 * MiB, { failAt: MiB, error: boom });
        await assert.rejects(store.put(small.stream), (err) => err === boom);
        await assertHolds(store, []);
      }));

    it('maxBytes: a source over the limit is RESOURCE_EXHAUSTED and leaves nothing; one at the limit is kept', () =>
      withStore(async (store) => {
        const over = generated(40 * MiB);
        await rejectsWith(store.put(over.stream, { maxBytes: 20 * MiB }), 'RESOURCE_EXHAUSTED');
        assert.ok(over.produced < 40 * MiB, 'the put stops reading soon after the limit');
        await rejectsWith(store.put(Readable.from([Buffer.alloc(11)]), { maxBytes: 10 }), 'RESOURCE_EXHAUSTED');
        await assertHolds(store, []);
        const exact = await store.put(Readable.from([Buffer.alloc(10)]), { maxBytes: 10 });
        assert.equal(exact.size, 10);
        await assertHolds(store, [exact]);
        await rejectsWith(store.put(Readable.from([]), { maxBytes: -1 }), 'INVALID_ARGUMENT');
      }));

    it('cleanupIncomplete removes the leftovers of a put that never finished, and that put then fails', () =>
      withStore(async (store) => {
        const source = new PassThrough();
        const put = store.put(source);
        put.catch(() => {}); // awaited below
        const piece = randomBytes(MiB);
        for (let i = 0; i < 12; i++) source.write(piece);
        await until(async () => (await store.listIncomplete()) > 0, 'the put to leave temp data');
        assert.equal(await store.cleanupIncomplete(3_600_000), 0, 'young leftovers are kept');
        assert.ok((await store.cleanupIncomplete(0)) > 0);
        assert.equal(await store.listIncomplete(), 0);
        for (let i = 0; i < 12; i++) source.write(piece);
        source.end();
        await assert.rejects(put);
        await assertHolds(store, []);
      }));

    it('a staged blob whose bytes cleanupIncomplete removed fails to commit and never becomes visible', () =>
      withStore(async (store) => {
        const staged = await store.stage(Readable.from([randomBytes(6 * MiB)]));
        assert.ok((await store.cleanupIncomplete(0)) >= 1);
        await assert.rejects(staged.commit());
        assert.equal(await store.stat(staged.digest), null);
        await rejectsWith(store.read(staged.digest), 'NOT_FOUND');
        await assertHolds(store, []);
      }));

    it('onStaging names what a put leaves, and discardStaging removes it by name: the put then fails and nothing is left', () =>
      withStore(async (store) => {
        const reported: StagingObject[] = [];
        const source = new PassThrough();
        const put = store.put(source, { onStaging: async (object) => void reported.push(object) });
        put.catch(() => {}); // awaited below
        const piece = randomBytes(MiB);
        for (let i = 0; i < 24; i++) source.write(piece);
        await until(async () => (await store.listIncomplete()) > 0, 'the put to leave temp data');
        await sleep(200); // a multipart upload is reported as soon as it is created: this lets that land
        assert.ok(reported.length > 0, 'the put reported its temp data before sending its bytes');
        // As a sweeper would once the put's process died: by the names alone, without listing.
        for (const object of reported) await store.discardStaging(object);
        for (const object of reported) await store.discardStaging(object); // again: already gone is fine
        assert.equal(await store.listIncomplete(), 0);
        source.end(piece);
        await assert.rejects(put);
        await assertHolds(store, []);
      }));

    it('discardStaging with the staged digest leaves a committed blob whole', () =>
      withStore(async (store) => {
        const bytes = randomBytes(9 * MiB);
        const reported: StagingObject[] = [];
        const staged = await store.stage(Readable.from(chunks(bytes, MiB)), { onStaging: async (object) => void reported.push(object) });
        await staged.commit();
        // A sweeper finding the records of a put that committed and then died, before it could forget them.
        for (const object of reported) await store.discardStaging(object, staged.digest);
        assert.ok((await store.readRange(staged.digest, 0, bytes.length)).equals(bytes));
        await assertHolds(store, [{ digest: staged.digest, size: bytes.length }]);
      }));

    it('abort after commit changes nothing', () =>
      withStore(async (store) => {
        const bytes = randomBytes(6 * MiB);
        const staged = await store.stage(Readable.from([bytes]));
        await staged.commit();
        await staged.abort();
        assert.ok((await store.readRange(staged.digest, 0, bytes.length)).equals(bytes));
        await assertHolds(store, [{ digest: staged.digest, size: bytes.length }]);
      }));

    it('a 300 MiB put and read stream through with bounded memory', (t) =>
      withStore(async (store) => {
        const size = 300 * MiB;
        const rss = new RssSampler();
        const source = generated(size);
        const info = await store.put(source.stream);
        const putGrowth = rss.growth();
        assert.deepEqual(info, { digest: source.digest(), size });

        const readRss = new RssSampler();
        const hash = createHash('sha256');
        let read = 0;
        for await (const chunk of await store.read(info.digest)) {
          hash.update(chunk as Buffer);
          read += (chunk as Buffer).length;
        }
        const readGrowth = readRss.growth();
        assert.equal(read, size);
        assert.equal(hash.digest('hex'), info.digest);
        const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
        t.diagnostic(`RSS growth: put ${mib(putGrowth)}, read ${mib(readGrowth)}`);
        assert.ok(putGrowth < maxRssGrowth, `RSS grew by ${mib(putGrowth)} during the put (limit ${mib(maxRssGrowth)})`);
        assert.ok(readGrowth < maxRssGrowth, `RSS grew by ${mib(readGrowth)} during the read (limit ${mib(maxRssGrowth)})`);
        await store.delete(info.digest);
        await assertHolds(store, []);
      }));
  });
}

// ------------------------------------------------------------------------------------------------------------------

type Source = { stream: Readable; readonly produced: number; digest(): string };

/**
 * `size` pseudo-random bytes made on the fly in 1 MiB chunks (never held whole), hashed as they are produced.
 * `failAt` makes the stream fail with `error` once that many bytes went out; `pace` yields to the event loop
 * between chunks so that an abort can land mid-stream.
 */
function generated(
  size: number,
  options: { failAt?: number; error?: Error; onProduced?: (n: number) => void; pace?: boolean } = {},
): Source {
  const base = randomBytes(MiB);
  const hash = createHash('sha256');
  let produced = 0;
  async function* bytes() {
    for (let index = 0; produced < size; index++) {
      if (options.failAt !== undefined && produced >= options.failAt) throw options.error ?? new Error('source failed');
      const chunk = Buffer.allocUnsafe(Math.min(MiB, size - produced));
      base.copy(chunk, 0, 0, chunk.length);
      chunk.writeUInt32BE(index, 0); // no two chunks alike
      hash.update(chunk);
      produced += chunk.length;
      options.onProduced?.(produced);
      if (options.pace) await sleep(1);
      yield chunk;
    }
  }
  return {
    stream: Readable.from(bytes(), { objectMode: false, highWaterMark: MiB }),
    get produced() {
      return produced;
    },
    digest: () => hash.copy().digest('hex'),
  };
}

/** Samples the process's RSS until growth() is called: peak minus the value at the start. */
class RssSampler {
  readonly #start = process.memoryUsage().rss;
  #peak = this.#start;
  readonly #timer = setInterval(() => this.#sample(), 10);

  #sample(): void {
    this.#peak = Math.max(this.#peak, process.memoryUsage().rss);
  }

  growth(): number {
    this.#sample();
    clearInterval(this.#timer);
    return this.#peak - this.#start;
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function* chunks(bytes: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function sortByDigest(items: BlobInfo[]): BlobInfo[] {
  return [...items].map(({ digest, size }) => ({ digest, size })).sort((a, b) => a.digest.localeCompare(b.digest));
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, what = ''): Promise<void> {
  await assert.rejects(promise, (err) => {
    assert.ok(isKilnError(err), `${what}: expected a KilnError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `${what}: ${err.message}`);
    return true;
  });
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
