// Unit tests of the cache of final versions: only final versions, LRU bound, and no caching across an eviction.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '@kiln/log';
import { VersionCache } from './version-cache';
import type { VersionRecord } from './store';

const record = (version: number, status: VersionRecord['status']) => ({ model: 'm', version, status }) as VersionRecord;
const log = createLogger('test', 'silent');

describe('VersionCache', () => {
  it('keeps only final versions, and evicts the least recently used past its size', () => {
    const cache = new VersionCache<VersionRecord>(2, log, false);
    cache.put(record(1, 'BUILDING'), record(1, 'BUILDING'), cache.generation());
    assert.equal(cache.get('m', 1), undefined, 'a building version changes: never cached');
    cache.put(record(1, 'RELEASED'), record(1, 'RELEASED'), cache.generation());
    cache.put(record(2, 'FAILED'), record(2, 'FAILED'), cache.generation());
    assert.ok(cache.get('m', 1));
    cache.put(record(3, 'RELEASED'), record(3, 'RELEASED'), cache.generation());
    assert.equal(cache.get('m', 2), undefined, 'version 2 was the least recently used');
    assert.ok(cache.get('m', 1) && cache.get('m', 3));
  });

  it('does not cache a record read before an eviction (it may be the deleted version)', () => {
    const cache = new VersionCache<VersionRecord>(10, log, false);
    const readAt = cache.generation();
    cache.evict('m', 1);
    cache.put(record(1, 'RELEASED'), record(1, 'RELEASED'), readAt);
    assert.equal(cache.get('m', 1), undefined);
  });

  it('a shared database caches nothing until its listener runs', () => {
    const cache = new VersionCache<VersionRecord>(10, log, true);
    cache.put(record(1, 'RELEASED'), record(1, 'RELEASED'), cache.generation());
    assert.equal(cache.get('m', 1), undefined);
  });
});
