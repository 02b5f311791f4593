import assert from 'node:assert/strict';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { test } from 'node:test';
import { countUploadBytes, pacesCollections, UPLOAD_BYTES_PER_COLLECTION } from './upload-gc';

/** Young-generation collections V8 reports while `fn` runs. */
async function minorCollectionsDuring(fn: () => void): Promise<number> {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  fn();
  await new Promise((resolve) => setTimeout(resolve, 50)); // gc entries are delivered asynchronously
  observer.disconnect();
  return entries.filter((e) => (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR).length;
}

test('Node gives the upload path its young-generation collections', () => {
  assert.equal(pacesCollections, true);
});

test('a collection after each UPLOAD_BYTES_PER_COLLECTION upload bytes, none before', async () => {
  countUploadBytes(UPLOAD_BYTES_PER_COLLECTION); // whatever the counter held: it starts again from 0 here
  const chunk = 1024 * 1024;
  const before = await minorCollectionsDuring(() => {
    for (let sent = chunk; sent < UPLOAD_BYTES_PER_COLLECTION; sent += chunk) countUploadBytes(chunk);
  });
  assert.equal(before, 0);
  const at = await minorCollectionsDuring(() => countUploadBytes(chunk));
  assert.ok(at >= 1, `expected a young-generation collection, saw ${at}`);
});
