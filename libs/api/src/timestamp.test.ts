import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromTimestamp, timestampMs, toTimestamp } from './timestamp';

test('a Date goes to a Timestamp and back to the millisecond, before 1970 too', () => {
  for (const ms of [0, 1, 999, 1_796_410_837_436, -1, -1500]) {
    const t = toTimestamp(new Date(ms));
    assert.ok(t.nanos >= 0 && t.nanos < 1e9, `${ms}: nanos in range`);
    assert.equal(fromTimestamp(t)!.getTime(), ms);
    assert.equal(timestampMs(t), ms);
  }
  assert.deepEqual(toTimestamp(new Date(1500)), { seconds: 1, nanos: 500_000_000 });
  assert.equal(toTimestamp(null), null);
  assert.equal(fromTimestamp(null), null);
  assert.ok(Number.isNaN(timestampMs(undefined)));
});
