// Aliases' rules on the in-memory store, without servers: what an alias may point at, who may move a protected one,
// history and audit with every move, the delete guard, reads by alias through the cache, and the image tag's retries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireRole } from '@kiln/api/auth/policy';
import type { Caller, HandlerContext, Role } from '@kiln/api/context';
import { createLogger } from '@kiln/log';
import { aliasImageReference, deleteAlias, refuseDeletingAliased, resolveAlias, retryPendingTags, setAlias, type TagMover } from './aliases';
import { MemoryStore } from './store/memory';
import { VersionCache } from './version-cache';

const log = createLogger('test', 'silent');

function as(role: Role, namespace = 'default'): HandlerContext {
  const caller: Caller = { kind: 'token', peer: '127.0.0.1:1', tokenId: `tok_${role}`, owner: role, bindings: [{ namespace, role }] };
  return {
    rpc: 'kiln.v1.Registry/SetModelAlias',
    caller,
    requireRole: (needed: Role, ns: string, what: string) => requireRole(caller, needed, ns, what),
  } as unknown as HandlerContext;
}

async function setup(moveTag?: TagMover) {
  const store = new MemoryStore();
  const cache = new VersionCache<object>(100, log, false);
  const deps = { store, cache, log, moveTag };
  const version = async (model: string, status: 'RELEASED' | 'FAILED' | 'BUILDING' = 'RELEASED') => {
    const v = await store.inTransaction((tx) => tx.insertVersion({ model, files: [], manifest: '', labels: {}, metadata: {}, contract: null, runtime: '' }));
    if (status === 'RELEASED') await store.setBuildResult(model, v.version, { imageReference: `reg:5000/kiln/default/${model}:${v.version}`, imageDigest: `sha256:${'a'.repeat(63)}${v.version}` });
    if (status === 'FAILED') await store.setBuildResult(model, v.version, { failureReason: 'no base' });
    return v.version;
  };
  return { store, cache, deps, version };
}

const input = (alias: string, version: number, extra: Partial<{ protected: boolean; reason: string }> = {}) =>
  ({ model: 'fraud', alias, version, protected: false, allowBreakingChanges: false, reason: '', ...extra });
const code = (err: unknown) => (err as { code?: string }).code;

describe('aliases', () => {
  it('point only at a released version, with names that are image tags but not a version\'s or latest', async () => {
    const { deps, version } = await setup();
    const released = await version('fraud');
    const failed = await version('fraud', 'FAILED');
    const building = await version('fraud', 'BUILDING');
    const maintainer = as('maintainer');
    assert.equal((await setAlias(deps, maintainer, input('production', released))).version, released);
    for (const v of [failed, building]) {
      await assert.rejects(setAlias(deps, maintainer, input('production', v)), (err) => code(err) === 'FAILED_PRECONDITION' && /an alias points only at a RELEASED version/.test(String(err)));
    }
    await assert.rejects(setAlias(deps, maintainer, input('production', 99)), (err) => code(err) === 'NOT_FOUND');
    for (const bad of ['', '7', 'latest', 'has space', 'x'.repeat(129), '-dash']) {
      await assert.rejects(setAlias(deps, maintainer, input(bad, released)), (err) => code(err) === 'INVALID_ARGUMENT', bad);
    }
  });

  it('move atomically, keep their history and an audit record of each move, and show on their versions', async () => {
    const { store, cache, deps, version } = await setup();
    const [one, two] = [await version('fraud'), await version('fraud')];
    await setAlias(deps, as('maintainer'), input('production', one, { reason: 'first deploy' }));
    assert.equal(await resolveAlias(deps, 'fraud', 'production', 'alias'), one);
    assert.equal(cache.aliasVersion('fraud', 'production'), one, 'a resolved alias is cached');
    await setAlias(deps, as('admin'), input('production', two, { reason: 'better recall' }));
    assert.equal(cache.aliasVersion('fraud', 'production'), undefined, 'a move forgets it');
    assert.equal(await resolveAlias(deps, 'fraud', 'production', 'alias'), two);
    assert.deepEqual((await store.getVersion('fraud', two))?.aliases, ['production']);
    assert.deepEqual((await store.getVersion('fraud', one))?.aliases, []);
    const history = await store.aliasHistory({ model: 'fraud', pageSize: 10 });
    assert.deepEqual(history.map((h) => [h.fromVersion, h.toVersion, h.caller, h.reason]), [[one, two, 'token:tok_admin', 'better recall'], [0, one, 'token:tok_maintainer', 'first deploy']]);
    const audit = await store.listAuditEvents({ pageSize: 10 });
    assert.deepEqual(audit.map((e) => e.message), [`moved alias production from version ${one} to version ${two}: better recall`, `created alias production to version ${one}: first deploy`]);
    const setAgain = await setAlias(deps, as('maintainer'), input('production', two));
    assert.equal(setAgain.version, two);
    assert.equal((await store.aliasHistory({ model: 'fraud', pageSize: 10 })).length, 2, 'setting it where it is records nothing');
    await deleteAlias(deps, as('maintainer'), { model: 'fraud', alias: 'production', reason: 'retired' });
    await assert.rejects(resolveAlias(deps, 'fraud', 'production', 'alias'), (err) => code(err) === 'NOT_FOUND' && /has no alias production/.test(String(err)));
    await assert.rejects(resolveAlias(deps, 'nobody', 'production', 'alias'), /model nobody does not exist/);
    assert.deepEqual((await store.aliasHistory({ model: 'fraud', pageSize: 1 }))[0].toVersion, 0);
  });

  it('protected: only admin protects, unprotects, moves or deletes one', async () => {
    const { deps, version } = await setup();
    const [one, two] = [await version('fraud'), await version('fraud')];
    await assert.rejects(setAlias(deps, as('maintainer'), input('production', one, { protected: true })),
      (err) => code(err) === 'PERMISSION_DENIED' && /lacks role admin in namespace default, which protecting the alias production needs/.test(String(err)));
    await setAlias(deps, as('admin'), input('production', one, { protected: true }));
    await assert.rejects(setAlias(deps, as('maintainer'), input('production', two, { protected: true })), /which moving the protected alias production needs/);
    await assert.rejects(setAlias(deps, as('maintainer'), input('production', one)), /which moving the protected alias production needs/);
    await assert.rejects(deleteAlias(deps, as('maintainer'), { model: 'fraud', alias: 'production', reason: '' }), /which deleting the protected alias production needs/);
    await assert.rejects(setAlias(deps, as('admin', 'risk'), input('production', two, { protected: true })), /lacks role admin in namespace default/);
    assert.equal((await setAlias(deps, as('admin'), input('production', two, { protected: true }))).version, two);
  });

  it('keep their version from being deleted, naming them; the delete rolls back whole', async () => {
    const { store, deps, version } = await setup();
    const one = await version('fraud');
    await setAlias(deps, as('maintainer'), input('production', one));
    await setAlias(deps, as('maintainer'), input('shadow', one));
    await assert.rejects(store.inTransaction(async (tx) => {
      await tx.markDeleted('fraud', one);
      await refuseDeletingAliased(tx, 'fraud', one);
    }), (err) => code(err) === 'FAILED_PRECONDITION' && /fraud@production, fraud@shadow point at: move or delete those aliases first/.test(String(err)));
    assert.equal((await store.getVersion('fraud', one))?.status, 'RELEASED');
  });

  it('move their image tag after the commit; a failed move stays pending with its reason until a retry succeeds', async () => {
    const moves: Array<{ alias: string; imageReference: string; imageDigest: string }> = [];
    let down = true;
    const { store, deps, version } = await setup(async (a) => {
      if (down) throw new Error('registry:5000 refused the connection');
      moves.push({ alias: a.alias, imageReference: a.imageReference, imageDigest: a.imageDigest });
    });
    const one = await version('fraud');
    const set = await setAlias(deps, as('maintainer'), input('production', one));
    assert.deepEqual([set.tagPending, set.tagError], [true, 'registry:5000 refused the connection']);
    down = false;
    assert.equal(await retryPendingTags(deps), 0, 'not retried within its wait after an attempt');
    // The store's claim waits TAG_RETRY_AFTER_MS after the last attempt: forget that attempt, as time passing would.
    const { claimPendingTags } = store;
    store.claimPendingTags = (_ms, limit) => claimPendingTags.call(store, -1, limit);
    assert.equal(await retryPendingTags(deps), 1);
    assert.deepEqual(moves, [{ alias: 'production', imageReference: `reg:5000/kiln/default/fraud:${one}`, imageDigest: `sha256:${'a'.repeat(63)}${one}` }]);
    assert.deepEqual([(await store.getAlias('fraud', 'production'))?.tagPending, (await store.getAlias('fraud', 'production'))?.tagError], [false, '']);
    assert.equal(await retryPendingTags(deps), 0, 'nothing pending');
  });

  it('name their image by the version\'s repository, a registry port kept', () => {
    assert.equal(aliasImageReference('reg:5000/kiln/default/fraud:3', 'production'), 'reg:5000/kiln/default/fraud:production');
    assert.equal(aliasImageReference('kiln/fraud:3', 'canary'), 'kiln/fraud:canary');
    assert.equal(aliasImageReference('', 'canary'), '');
  });
});
