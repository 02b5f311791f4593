import assert from 'node:assert/strict';
import { test } from 'node:test';
import { byPath, compareCodeUnits, forEachConcurrently, formatBytes } from './index';

test('forEachConcurrently runs every item, never more than the limit at once', async () => {
  let running = 0;
  let most = 0;
  const done: number[] = [];
  await forEachConcurrently([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 5 * (n % 3)));
    done.push(n);
    running--;
  });
  assert.deepEqual([...done].sort(), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(most, 3);
});

test('forEachConcurrently starts nothing after a failure and throws only once the running calls have settled', async () => {
  const started: number[] = [];
  let settled = 0;
  await assert.rejects(
    forEachConcurrently([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      if (n === 1) throw new Error('first fails');
      await new Promise((r) => setTimeout(r, 20));
      settled++;
    }),
    /first fails/,
  );
  assert.deepEqual(started, [1, 2], 'no item started after the failure');
  assert.equal(settled, 1, 'the call running beside it had settled before the error was thrown');
});

test('forEachConcurrently of nothing does nothing', async () => {
  await forEachConcurrently([], 4, async () => assert.fail('called'));
});

test('paths sort by code unit, whatever the locale', () => {
  const paths = ['b', 'B', 'a/b', 'a', 'é', 'a-b', 'Z'].map((path) => ({ path }));
  assert.deepEqual(paths.sort(byPath).map((p) => p.path), ['B', 'Z', 'a', 'a-b', 'a/b', 'b', 'é']);
  assert.equal(compareCodeUnits('x', 'x'), 0);
});

test('byte counts in binary units', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(444), '444 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(2560), '2.5 KiB');
  assert.equal(formatBytes(1024 ** 3), '1.0 GiB');
  assert.equal(formatBytes(5 * 1024 ** 5), '5120.0 TiB');
});
