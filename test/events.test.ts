// Registry events end to end, on the real Postgres: WatchModels streams every change (created, released, alias set,
// moved and deleted, labels changed, deleted) in commit order, filtered by model, namespace and kind, on any replica;
// a watch resumed from a token after the registry restarts misses nothing and repeats nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registryClient, type RegistryClient } from '@kiln/api';
import { promiseClient, type RegistryPromiseClient } from '@kiln/api/client';
import type { RegistryEvent__Output } from '@kiln/api/generated/kiln/v1/RegistryEvent';
import type { WatchModelsRequest } from '@kiln/api/generated/kiln/v1/WatchModelsRequest';
import { createLogger } from '@kiln/log';
import { startKiln, uploadModel, waitForBuild, type RunningKiln } from './helpers/services';
import { startRegistry } from '../services/registry/src/index';

const log = createLogger('events-test', 'silent');

/** A running WatchModels call collecting its events; `until` waits for a count. */
function watch(client: RegistryClient, request: WatchModelsRequest) {
  const events: RegistryEvent__Output[] = [];
  const call = client.WatchModels(request);
  let error: Error | undefined;
  call.on('data', (e: RegistryEvent__Output) => events.push(e));
  call.on('error', (err: Error) => (error = err));
  return {
    events,
    async until(n: number, timeoutMs = 10_000): Promise<RegistryEvent__Output[]> {
      const start = Date.now();
      while (events.length < n && !error && Date.now() - start < timeoutMs) await new Promise((r) => setTimeout(r, 20));
      if (events.length < n) throw new Error(`${events.length} of ${n} events after ${Date.now() - start} ms (${error?.message ?? 'no error'}): ${JSON.stringify(summary(events))}`);
      return events;
    },
    cancel: () => call.cancel(),
  };
}

const summary = (events: RegistryEvent__Output[]) =>
  events.map((e) => [String(e.kind).replace('EVENT_KIND_', ''), e.model, Number(e.version), e.alias, Number(e.previousVersion)]);

describe('registry events', () => {
  let kiln: RunningKiln;
  let replica: { address: string; stop(): Promise<void> } | undefined;
  const clients: RegistryClient[] = [];
  let api: RegistryPromiseClient;
  const watches: Array<{ cancel(): void }> = [];
  const watching = (client: RegistryClient, request: WatchModelsRequest) => {
    const w = watch(client, request);
    watches.push(w);
    return w;
  };

  before(async () => {
    kiln = await startKiln();
    api = promiseClient(kiln.client);
  });
  after(async () => {
    for (const w of watches) w.cancel();
    for (const c of clients) c.close();
    await replica?.stop();
    await kiln?.stop();
  });

  test('every change reaches watchers in commit order, on this replica and another, filtered by model, namespace and kind', async () => {
    replica = await startRegistry({ ...kiln.config, listen: { ...kiln.config.listen, registry: '127.0.0.1:0' } }, log);
    const other = registryClient(replica.address);
    clients.push(other);
    const all = watching(kiln.client, { namespace: 'ev' });
    const elsewhere = watching(other, { model: 'ev/m' });
    const releases = watching(kiln.client, { namespace: 'ev', kinds: ['EVENT_KIND_VERSION_RELEASED'] });
    const unrelated = watching(kiln.client, { model: 'ev/unrelated' });
    await new Promise((r) => setTimeout(r, 300)); // the watches have started

    const v = await uploadModel(kiln.client, 'ev/m', [{ path: 'model.bin', content: 'events' }], { labels: { team: 'ev' } });
    await waitForBuild(kiln.client, 'ev/m', Number(v.version));
    await api.SetModelAlias({ model: 'ev/m', alias: 'production', version: 1 });
    const v2 = await uploadModel(kiln.client, 'ev/m', [{ path: 'model.bin', content: 'events 2' }]);
    await waitForBuild(kiln.client, 'ev/m', Number(v2.version));
    await api.SetModelAlias({ model: 'ev/m', alias: 'production', version: 2 });
    await api.UpdateModelVersion({ model: 'ev/m', version: 1, setLabels: { stage: 'old' } });
    await api.DeleteModelAlias({ model: 'ev/m', alias: 'production' });
    await api.DeleteModelVersion({ model: 'ev/m', version: 1 });

    const expected = [
      ['VERSION_CREATED', 'ev/m', 1, '', 0],
      ['VERSION_RELEASED', 'ev/m', 1, '', 0],
      ['ALIAS_SET', 'ev/m', 1, 'production', 0],
      ['VERSION_CREATED', 'ev/m', 2, '', 0],
      ['VERSION_RELEASED', 'ev/m', 2, '', 0],
      ['ALIAS_MOVED', 'ev/m', 2, 'production', 1],
      ['LABELS_CHANGED', 'ev/m', 1, '', 0],
      ['ALIAS_DELETED', 'ev/m', 2, 'production', 0],
      ['VERSION_DELETED', 'ev/m', 1, '', 0],
    ];
    assert.deepEqual(summary(await all.until(expected.length)), expected);
    assert.deepEqual(summary(await elsewhere.until(expected.length)), expected, 'the other replica streams the same, in the same order');
    assert.deepEqual(summary(await releases.until(2)), expected.filter((e) => e[0] === 'VERSION_RELEASED'));
    const [created, released] = all.events;
    assert.deepEqual(created.labels, { team: 'ev' });
    assert.equal(created.caller, 'anonymous');
    assert.match(released.image, /\/ev\/m:1@sha256:[0-9a-f]{64}$/);
    assert.equal(released.caller, 'service:builder');
    assert.deepEqual(all.events[6].labels, { team: 'ev', stage: 'old' });
    assert.equal(unrelated.events.length, 0);
    assert.deepEqual(all.events.map((e) => e.resumeToken), elsewhere.events.map((e) => e.resumeToken), 'one token per event on every replica');
  });

  test('a watch resumed from its last token after the registry restarts misses nothing and repeats nothing', async () => {
    const first = watching(kiln.client, { model: 'resumed' });
    await new Promise((r) => setTimeout(r, 300));
    await uploadModel(kiln.client, 'resumed', [{ path: 'a.bin', content: 'a' }]);
    const [seen] = await first.until(1);
    first.cancel();
    // Changes while nobody watches, across a restart of the whole registry.
    await uploadModel(kiln.client, 'resumed', [{ path: 'b.bin', content: 'b' }]);
    await kiln.restartRegistry();
    await uploadModel(kiln.client, 'resumed', [{ path: 'c.bin', content: 'c' }]);
    const resumed = watching(kiln.client, { model: 'resumed', resumeToken: seen.resumeToken, kinds: ['EVENT_KIND_VERSION_CREATED'] });
    assert.deepEqual((await resumed.until(2)).map((e) => Number(e.version)), [2, 3]);
    await uploadModel(kiln.client, 'resumed', [{ path: 'd.bin', content: 'd' }]);
    assert.deepEqual((await resumed.until(3)).map((e) => Number(e.version)), [2, 3, 4], 'then live ones');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(resumed.events.length, 3, 'nothing twice');
  });

  test('a bad filter or token is INVALID_ARGUMENT', async () => {
    for (const request of [{ resumeToken: 'nope' }, { model: 'Bad Name' }, { namespace: 'a/b' }, { kinds: ['EVENT_KIND_UNSPECIFIED' as const] }]) {
      assert.equal(await errorOf(request), 3, JSON.stringify(request));
    }
  });

  /** The status a WatchModels call with `request` ends with. */
  function errorOf(request: WatchModelsRequest): Promise<number | undefined> {
    return new Promise((resolve) => {
      const call = kiln.client.WatchModels(request);
      call.on('error', (err: { code?: number }) => resolve(err.code));
      call.on('data', () => {});
      setTimeout(() => {
        call.cancel();
        resolve(undefined);
      }, 3000);
    });
  }
});
