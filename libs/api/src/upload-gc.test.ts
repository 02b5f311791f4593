import assert from 'node:assert/strict';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { test } from 'node:test';
import { countUploadBytes, pacesCollections, UPLOAD_BYTES_PER_COLLECTION, UPLOAD_BYTES_PER_FULL_COLLECTION } from './upload-gc';

type GcEntry = PerformanceEntry & { detail?: { kind?: number } };

/** The collections V8 reports while `fn` runs (and shortly after: gc entries arrive asynchronously). */
async function collectionsDuring(fn: () => void): Promise<{ minor: number; major: number }> {
  const entries: GcEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  fn();
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  const count = (kind: number) => entries.filter((e) => e.detail?.kind === kind).length;
  return { minor: count(constants.NODE_PERFORMANCE_GC_MINOR), major: count(constants.NODE_PERFORMANCE_GC_MAJOR) };
}

test('Node gives the upload path its young-generation collections', () => {
  assert.equal(pacesCollections, true);
});

test('a collection after each UPLOAD_BYTES_PER_COLLECTION upload bytes, none before', async () => {
  countUploadBytes(UPLOAD_BYTES_PER_COLLECTION); // whatever the counter held: it starts again from 0 here
  const chunk = 1024 * 1024;
  const before = await collectionsDuring(() => {
    for (let sent = chunk; sent < UPLOAD_BYTES_PER_COLLECTION; sent += chunk) countUploadBytes(chunk);
  });
  assert.equal(before.minor, 0);
  const at = await collectionsDuring(() => countUploadBytes(chunk));
  assert.ok(at.minor >= 1, `expected a young-generation collection, saw ${at.minor}`);
});

test('one full collection in each UPLOAD_BYTES_PER_FULL_COLLECTION upload bytes', async () => {
  // Whatever the counter held, this many bytes in steps that each collect cross the threshold once.
  const seen = await collectionsDuring(() => {
    for (let sent = 0; sent < UPLOAD_BYTES_PER_FULL_COLLECTION; sent += UPLOAD_BYTES_PER_COLLECTION) countUploadBytes(UPLOAD_BYTES_PER_COLLECTION);
  });
  assert.ok(seen.major >= 1, `expected a full collection, saw ${seen.major}`);
  assert.ok(seen.minor >= UPLOAD_BYTES_PER_FULL_COLLECTION / UPLOAD_BYTES_PER_COLLECTION - 1, `saw ${seen.minor} young-generation collections`);
});
