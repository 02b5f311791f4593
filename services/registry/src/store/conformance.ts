// One suite for every store implementation: what the use cases rely on, run against the in-memory store (unit
// tests, memory.test.ts) and Postgres (test/registry-store.test.ts). No clock control: cutoffs in the past or the
// future stand in for old and young rows.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { INTERRUPTED_ATTEMPT, type NewAuditEvent, type NewRegistryEvent, type NewVersion, type NewWebhook, type RegistryStore, type StoredFile } from './index';

export interface StoreUnderTest {
  store: RegistryStore;
  close(): Promise<void>;
}

const file = (path: string, sha256: string, size = 1): StoredFile => ({ path, size, sha256, executable: false });
const newVersion = (model: string, files: StoredFile[] = [], labels: Record<string, string> = {}): NewVersion =>
  ({ model, files, manifest: '', labels, metadata: {}, contract: null, runtime: '' });
const HOUR = 3600 * 1000;

export function storeConformance(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`the ${name} store`, () => {
    let opened: StoreUnderTest;
    let store: RegistryStore;
    before(async () => {
      opened = await open();
      store = opened.store;
    });
    after(() => opened?.close());
    const create = (v: NewVersion) => store.inTransaction((tx) => tx.insertVersion(v));

    it('numbers versions 1, 2, 3 per model, with no gap where a transaction rolled back', async () => {
      assert.equal((await create(newVersion('numbered'))).version, 1);
      await assert.rejects(store.inTransaction(async (tx) => {
        await tx.insertVersion(newVersion('numbered'));
        throw new Error('the upload failed');
      }), /the upload failed/);
      assert.equal((await create(newVersion('numbered'))).version, 2);
      assert.equal((await create(newVersion('other'))).version, 1);
    });

    it('keeps a version\'s files sorted by path, with sizes summed, and gets the newest visible version as version 0', async () => {
      const v = await create(newVersion('files', [file('b.bin', 'b', 2), file('a.bin', 'a', 3)]));
      assert.equal(v.status, 'BUILDING');
      assert.deepEqual(v.files.map((f) => f.path), ['a.bin', 'b.bin']);
      assert.equal(v.totalSize, 5);
      const got = await store.getVersion('files', v.version);
      assert.deepEqual(got?.files, v.files);
      assert.deepEqual(await store.getFiles('files', v.version), v.files);
      await create(newVersion('files'));
      await store.inTransaction((tx) => tx.markDeleted('files', 2));
      assert.equal((await store.getVersion('files', 0))?.version, 1, 'the deleted newest is skipped');
      assert.equal(await store.getVersion('files', 2), null);
      assert.equal((await store.getVersion('files', 2, true))?.status, 'DELETED');
      assert.equal(await store.getVersion('files', 9), null);
      assert.equal(await store.modelExists('files'), true);
      assert.equal(await store.modelExists('nothing'), false);
    });

    it('moves statuses only as the lifecycle allows: one build result, deletes of any status but DELETED', async () => {
      const v = await create(newVersion('lifecycle'));
      await store.setBuildStarted('lifecycle', v.version);
      assert.ok((await store.getVersion('lifecycle', v.version))?.buildStartTime);
      assert.equal(await store.setBuildResult('lifecycle', v.version, { imageReference: 'r', imageDigest: 'sha256:1' }), true);
      assert.equal(await store.setBuildResult('lifecycle', v.version, { failureReason: 'late' }), false, 'a released version stays released');
      const released = (await store.getVersion('lifecycle', v.version))!;
      assert.deepEqual([released.status, released.imageReference, released.imageDigest, released.failureReason], ['RELEASED', 'r', 'sha256:1', '']);
      assert.ok(released.buildEndTime);

      const failed = await create(newVersion('lifecycle'));
      assert.equal(await store.setBuildResult('lifecycle', failed.version, { failureReason: 'no base image' }), true);
      assert.equal((await store.getVersion('lifecycle', failed.version))?.failureReason, 'no base image');

      const deleted = await store.inTransaction((tx) => tx.markDeleted('lifecycle', v.version));
      assert.equal(deleted?.record.status, 'DELETED');
      assert.ok(deleted?.record.deleteTime);
      assert.equal(await store.inTransaction((tx) => tx.markDeleted('lifecycle', v.version)), null, 'deleted once');
      assert.equal(await store.inTransaction((tx) => tx.markDeleted('lifecycle', 99)), null);
      const building = await create(newVersion('lifecycle'));
      assert.ok(await store.inTransaction((tx) => tx.markDeleted('lifecycle', building.version)));
      assert.equal(await store.setBuildResult('lifecycle', building.version, { imageReference: 'r', imageDigest: 'd' }), false, 'no build result after a delete');
    });

    it('lists versions newest first by status and labels, pages with beforeVersion, and counts only visible ones', async () => {
      await create(newVersion('listed', [], { stage: 'dev' }));
      await create(newVersion('listed', [], { stage: 'prod' }));
      await create(newVersion('listed', [], { stage: 'prod', team: 'a' }));
      await store.setBuildResult('listed', 2, { failureReason: 'x' });
      await store.inTransaction((tx) => tx.markDeleted('listed', 1));
      const list = (q: Partial<Parameters<RegistryStore['listVersions']>[0]>) =>
        store.listVersions({ model: 'listed', pageSize: 10, statuses: [], labels: {}, ...q }).then((vs) => vs.map((v) => v.version));
      assert.deepEqual(await list({}), [3, 2]);
      assert.deepEqual(await list({ statuses: ['DELETED'] }), [1]);
      assert.deepEqual(await list({ statuses: ['FAILED', 'BUILDING'] }), [3, 2]);
      assert.deepEqual(await list({ labels: { stage: 'prod' } }), [3, 2]);
      assert.deepEqual(await list({ labels: { team: 'a' } }), [3]);
      assert.deepEqual(await list({ pageSize: 1 }), [3]);
      assert.deepEqual(await list({ beforeVersion: 3 }), [2]);
      const models = await store.listModels({ pageSize: 10, namePrefix: 'listed' });
      assert.deepEqual(models.map((m) => [m.name, m.latestVersion, m.versionCount]), [['listed', 3, 2]]);
      // "Latest" is the newest version not deleted: after the newest goes, the one before it; the next upload is 4.
      await store.inTransaction((tx) => tx.markDeleted('listed', 3));
      const [after] = await store.listModels({ pageSize: 10, namePrefix: 'listed' });
      assert.deepEqual([after.latestVersion, after.versionCount, (await store.getVersion('listed', 0))?.version], [2, 1, 2]);
      assert.equal((await create(newVersion('listed'))).version, 4);
    });

    it('lists models by name from a page token, with a prefix', async () => {
      for (const m of ['page-b', 'page-a', 'page-c']) await create(newVersion(m));
      const names = (q: { pageSize: number; afterName?: string }) =>
        store.listModels({ ...q, namePrefix: 'page-' }).then((ms) => ms.map((m) => m.name));
      assert.deepEqual(await names({ pageSize: 2 }), ['page-a', 'page-b']);
      assert.deepEqual(await names({ pageSize: 2, afterName: 'page-b' }), ['page-c']);
    });

    it('keeps namespaced models apart and lists one namespace, the default one being the names without a slash', async () => {
      for (const m of ['nsa/x', 'nsa/y', 'nsb/x', 'ns-x']) await create(newVersion(m, [file('f', `ns-${m}`)]));
      await create(newVersion('nsa/x'));
      assert.equal((await store.getVersion('nsa/x', 0))?.version, 2);
      assert.equal((await store.getVersion('nsb/x', 0))?.version, 1, 'nsb/x is another model than nsa/x');
      assert.deepEqual((await store.getFiles('nsb/x', 1)).map((f) => f.sha256), ['ns-nsb/x']);
      assert.equal(await store.modelExists('nsa/x'), true);
      assert.equal(await store.modelExists('nsc/x'), false);
      const names = (q: Omit<Parameters<RegistryStore['listModels']>[0], 'pageSize'>, pageSize = 10) =>
        store.listModels({ pageSize, ...q }).then((ms) => ms.map((m) => m.name));
      assert.deepEqual(await names({ namespace: 'nsa' }), ['nsa/x', 'nsa/y']);
      assert.deepEqual(await names({ namespace: 'nsa' }, 1), ['nsa/x']);
      assert.deepEqual(await names({ namespace: 'nsa', afterName: 'nsa/x' }), ['nsa/y']);
      assert.deepEqual(await names({ namespace: 'nsb', namePrefix: 'nsa/' }), []);
      assert.deepEqual(await names({ namePrefix: 'ns' }), ['ns-x', 'nsa/x', 'nsa/y', 'nsb/x'], 'every namespace, by name');
      assert.deepEqual(await names({ namespace: 'default', namePrefix: 'ns' }), ['ns-x']);
      assert.deepEqual(await names({ namespace: 'nsc' }), []);
      const [listed] = await store.listModels({ pageSize: 1, namespace: 'nsa' });
      assert.deepEqual([listed.latestVersion, listed.versionCount], [2, 2]);
    });

    it('counts a blob referenced by a version not deleted or by an upload in progress, and by nothing else', async () => {
      await create(newVersion('refs', [file('kept', 'ref-kept'), file('gone', 'ref-deleted-only')]));
      await create(newVersion('refs-deleted', [file('gone', 'ref-deleted-only')]));
      await store.inTransaction((tx) => tx.markDeleted('refs-deleted', 1));
      assert.equal(await store.isBlobReferenced('ref-kept'), true);
      assert.equal(await store.isBlobReferenced('ref-deleted-only'), true, 'version 1 of refs still uses it');
      await store.inTransaction((tx) => tx.markDeleted('refs', 1));
      assert.equal(await store.isBlobReferenced('ref-deleted-only'), false);
      assert.equal(await store.isBlobReferenced('ref-nowhere'), false);

      await store.inTransaction(async (tx) => {
        await tx.lockBlob('ref-pending');
        await tx.addPendingBlob('00000000-0000-4000-8000-000000000001', 'ref-pending');
        await tx.addPendingBlob('00000000-0000-4000-8000-000000000001', 'ref-pending'); // twice is once
      });
      await store.addPendingBlob('00000000-0000-4000-8000-000000000001', 'ref-other');
      assert.equal(await store.isBlobReferenced('ref-pending'), true);
      assert.deepEqual((await store.pendingDigests('00000000-0000-4000-8000-000000000001')).sort(), ['ref-other', 'ref-pending']);
      await store.releasePendingBlob('00000000-0000-4000-8000-000000000001', 'ref-pending');
      assert.equal(await store.isBlobReferenced('ref-pending'), false);
      assert.deepEqual(await store.releasePending('00000000-0000-4000-8000-000000000001'), ['ref-other']);
      assert.deepEqual(await store.pendingDigests('00000000-0000-4000-8000-000000000001'), []);
    });

    it('finds uploads without a lease whose pending blobs are older than a cutoff, and leaves leased ones to their lease', async () => {
      const id = '00000000-0000-4000-8000-000000000002';
      const leased = '00000000-0000-4000-8000-000000000004';
      await store.addPendingBlob(id, 'stale-blob');
      await store.takeUploadLease(leased, -HOUR);
      await store.addPendingBlob(leased, 'stale-blob');
      assert.ok(!(await store.stalePendingUploads(HOUR)).includes(id), 'added within the hour');
      assert.ok((await store.stalePendingUploads(-HOUR)).includes(id), 'added before an hour from now');
      assert.ok(!(await store.stalePendingUploads(-HOUR)).includes(leased), 'a leased upload is its lease\'s to release');
      await store.releasePending(id);
      await store.releasePending(leased);
      assert.equal(await store.endUploadLease(leased), true);
    });

    it('renews an upload\'s lease until a sweep claims it; a lapsed lease goes to one of two concurrent sweeps', async () => {
      const live = '00000000-0000-4000-8000-000000000005';
      const dead = '00000000-0000-4000-8000-000000000006';
      await store.takeUploadLease(live, HOUR);
      await store.takeUploadLease(dead, -HOUR); // lapsed an hour ago
      const claims = await Promise.all([store.claimLapsedUploads(HOUR, 100), store.claimLapsedUploads(HOUR, 100)]);
      const mine = claims.map((c) => c.filter((id) => id === live || id === dead));
      assert.deepEqual(mine.flat(), [dead], 'the dead upload, claimed once; the live one untouched');
      assert.deepEqual((await store.claimLapsedUploads(HOUR, 100)).filter((id) => id === dead), [], 'a claim holds for its period');
      assert.equal(await store.renewUploadLease(live, HOUR), true);
      assert.equal(await store.renewUploadLease(dead, HOUR), false, 'a claimed upload has lost its lease');
      for (const id of [live, dead]) assert.equal(await store.endUploadLease(id), true);
      assert.equal(await store.renewUploadLease(live, HOUR), false, 'an ended lease is gone');
    });

    it('records what a leased upload opens, with its digest, multipart uploads first; the lease ends once nothing is left', async () => {
      const id = '00000000-0000-4000-8000-000000000007';
      await assert.rejects(store.recordStagedObject(id, { key: 'data/x' }), 'no record without a lease');
      await store.takeUploadLease(id, HOUR);
      await store.recordStagedObject(id, { key: 'data/a' });
      await store.recordStagedObject(id, { key: 'data/a', multipartUploadId: 'mpu-1' });
      await store.recordStagedObject(id, { key: 'data/a' }); // twice is once
      await store.recordStagedObject(id, { key: 'data/b' });
      await store.setStagedDigest(id, 'data/a', 'staged-a');
      assert.deepEqual(await store.stagedObjects(id), [
        { key: 'data/a', multipartUploadId: 'mpu-1', sha256: 'staged-a' },
        { key: 'data/a', sha256: 'staged-a' },
        { key: 'data/b' },
      ]);
      assert.equal(await store.endUploadLease(id), false, 'records keep the lease');
      await store.forgetStagedObjects(id, 'data/a');
      await store.forgetStagedObjects(id, 'data/b');
      assert.deepEqual(await store.stagedObjects(id), []);
      await store.addPendingBlob(id, 'leased-blob');
      assert.equal(await store.endUploadLease(id), false, 'pending blobs keep the lease');
      await store.releasePending(id);
      await assert.rejects(store.inTransaction(async (tx) => {
        await tx.recordStagedObject(id, { key: 'data/rolled-back' });
        throw new Error('the stage failed');
      }), /the stage failed/);
      assert.deepEqual(await store.stagedObjects(id), [], 'a rolled-back record is gone');
      assert.equal(await store.endUploadLease(id), true);
    });

    it('lists deleted versions whose blobs are uncollected, with their digests, until marked collected', async () => {
      await create(newVersion('uncollected', [file('a', 'u-a'), file('b', 'u-a'), file('c', 'u-c')]));
      await store.inTransaction((tx) => tx.markDeleted('uncollected', 1));
      const mine = async (olderThanMs: number) => (await store.uncollectedDeletions(olderThanMs, 1000)).filter((d) => d.model === 'uncollected');
      assert.deepEqual(await mine(HOUR), [], 'deleted just now');
      const [found] = await mine(-HOUR);
      assert.deepEqual([found.version, found.digests.sort()], [1, ['u-a', 'u-c']]);
      await store.markBlobsCollected('uncollected', 1);
      assert.deepEqual(await mine(-HOUR), []);
    });

    it('keeps build log lines by number, the first of a number, and reads them in order after a line', async () => {
      const v = await create(newVersion('logged'));
      assert.equal(await store.lastLogLine('logged', v.version), 0);
      await store.appendLogLines('logged', v.version, [{ number: 2, line: 'two' }, { number: 1, line: 'one' }]);
      await store.appendLogLines('logged', v.version, [{ number: 2, line: 'again' }, { number: 3, line: 'three' }]);
      await store.appendLogLines('logged', v.version, []);
      assert.equal(await store.lastLogLine('logged', v.version), 3);
      assert.deepEqual(await store.logLinesAfter('logged', v.version, 1), [{ number: 2, line: 'two' }, { number: 3, line: 'three' }]);
    });

    it('undoes every write of a transaction that throws', async () => {
      const id = '00000000-0000-4000-8000-000000000003';
      await create(newVersion('rolled-back'));
      await assert.rejects(store.inTransaction(async (tx) => {
        await tx.addPendingBlob(id, 'rolled-back-blob');
        await tx.markDeleted('rolled-back', 1);
        await tx.versionChanged('rolled-back', 1);
        throw new Error('the delete failed');
      }), /the delete failed/);
      assert.deepEqual(await store.pendingDigests(id), []);
      assert.equal((await store.getVersion('rolled-back', 1))?.status, 'BUILDING');
    });

    it('keeps aliases: resolves, lists, moves with history, shows them on their versions, and retries pending tags once per period', async () => {
      const released = async (model: string) => {
        const v = await create(newVersion(model));
        await store.setBuildResult(model, v.version, { imageReference: `reg/kiln/${model}:${v.version}`, imageDigest: `sha256:${model}${v.version}` });
        return v.version;
      };
      const m = 'aliased';
      const [one, two] = [await released(m), await released(m)];
      const move = (alias: string, from: number, to: number, by = 'token:tok_a') =>
        ({ model: m, alias, fromVersion: from, toVersion: to, caller: by, reason: `to ${to}`, breaking: false, protected: false });
      await store.inTransaction(async (tx) => {
        assert.equal(await tx.lockAlias(m, 'production'), null);
        assert.equal((await tx.lockVersion(m, one))?.status, 'RELEASED');
        await tx.putAlias({ model: m, alias: 'production', version: one, protected: false, updatedBy: 'token:tok_a' }, move('production', 0, one));
        await tx.putAlias({ model: m, alias: 'canary', version: two, protected: true, updatedBy: 'token:tok_a' }, move('canary', 0, two));
        await tx.aliasChanged(m, 'production');
      });
      assert.equal(await store.resolveAlias(m, 'production'), one);
      assert.equal(await store.resolveAlias(m, 'nothing'), null);
      assert.deepEqual((await store.getVersion(m, one))?.aliases, ['production']);
      assert.deepEqual((await store.listVersions({ model: m, pageSize: 10, statuses: [], labels: {} })).map((v) => v.aliases), [['canary'], ['production']]);
      await store.inTransaction(async (tx) => {
        const before = await tx.lockAlias(m, 'production');
        assert.deepEqual([before?.version, before?.tagPending], [one, true]);
        await tx.putAlias({ model: m, alias: 'production', version: two, protected: false, updatedBy: 'token:tok_b' }, move('production', one, two, 'token:tok_b'));
      });
      const listed = await store.listAliases(m);
      assert.deepEqual(listed.map((a) => [a.alias, a.version, a.protected, a.updatedBy, a.versionImageReference, a.versionImageDigest]), [
        ['canary', two, true, 'token:tok_a', `reg/kiln/${m}:${two}`, `sha256:${m}${two}`],
        ['production', two, false, 'token:tok_b', `reg/kiln/${m}:${two}`, `sha256:${m}${two}`],
      ]);
      assert.deepEqual((await store.getVersion(m, two))?.aliases, ['canary', 'production']);
      assert.deepEqual((await store.getVersion(m, one))?.aliases, []);
      await assert.rejects(store.inTransaction(async (tx) => {
        await tx.deleteAlias(m, 'canary', move('canary', two, 0));
        throw new Error('rolled back');
      }), /rolled back/);
      assert.equal(await store.resolveAlias(m, 'canary'), two, 'a rolled-back delete leaves the alias');
      await store.inTransaction((tx) => tx.deleteAlias(m, 'canary', move('canary', two, 0)));
      assert.equal(await store.resolveAlias(m, 'canary'), null);
      const history = await store.aliasHistory({ model: m, pageSize: 10 });
      assert.deepEqual(history.map((h) => [h.alias, h.fromVersion, h.toVersion]), [['canary', two, 0], ['production', one, two], ['canary', 0, two], ['production', 0, one]]);
      assert.deepEqual((await store.aliasHistory({ model: m, alias: 'production', pageSize: 1, beforeId: history[1].id })).map((h) => h.toVersion), [one]);

      // Tags: claimed once per period, done once the result is recorded for the version the alias still points at.
      const claimed = await store.claimPendingTags(60_000, 10);
      assert.deepEqual(claimed.filter((a) => a.model === m).map((a) => a.alias), ['production']);
      assert.deepEqual((await store.claimPendingTags(60_000, 10)).filter((a) => a.model === m), [], 'not again within the period');
      await store.setTagResult(m, 'production', one, '');
      assert.equal((await store.getAlias(m, 'production'))?.tagPending, true, 'a result for a version it no longer points at is ignored');
      await store.setTagResult(m, 'production', two, 'registry down');
      assert.deepEqual([(await store.getAlias(m, 'production'))?.tagPending, (await store.getAlias(m, 'production'))?.tagError], [true, 'registry down']);
      await store.setTagResult(m, 'production', two, '');
      assert.deepEqual([(await store.getAlias(m, 'production'))?.tagPending, (await store.getAlias(m, 'production'))?.tagError], [false, '']);
    });

    it('edits a version\'s labels and description, not a deleted one\'s', async () => {
      const v = await create(newVersion('edited', [], { team: 'risk', stage: 'dev' }));
      assert.equal(await store.inTransaction((tx) => tx.updateVersion('edited', v.version, { setLabels: { stage: 'prod', owner: 'ann' }, removeLabels: ['team'], description: 'the fraud model' })), true);
      const got = await store.getVersion('edited', v.version);
      assert.deepEqual([got?.labels, got?.description], [{ stage: 'prod', owner: 'ann' }, 'the fraud model']);
      await store.inTransaction((tx) => tx.updateVersion('edited', v.version, { setLabels: {}, removeLabels: [] }));
      assert.equal((await store.getVersion('edited', v.version))?.description, 'the fraud model', 'no description given: kept');
      await store.inTransaction((tx) => tx.markDeleted('edited', v.version));
      assert.equal(await store.inTransaction((tx) => tx.updateVersion('edited', v.version, { setLabels: { a: 'b' }, removeLabels: [] })), false);
      assert.equal(await store.inTransaction((tx) => tx.updateVersion('edited', 99, { setLabels: {}, removeLabels: [] })), false);
    });

    it('keeps what a payload left out with the version', async () => {
      const v = await create({ ...newVersion('excluding', [file('model.bin', 'm')]), excluded: { paths: ['a.tmp', 'b.tmp'], count: 7 } });
      const got = await store.getVersion('excluding', v.version);
      assert.deepEqual([got?.excludedPaths, got?.excludedFileCount], [['a.tmp', 'b.tmp'], 7]);
      const plain = await create(newVersion('excluding'));
      assert.deepEqual([plain.excludedPaths, plain.excludedFileCount], [[], 0]);
    });

    it('keeps events in commit order, none of a rolled-back change, filtered by model and namespace', async () => {
      const start = await store.lastEventId();
      const ev = (model: string, version: number): NewRegistryEvent => ({
        kind: 'VERSION_CREATED', model, namespace: model.includes('/') ? model.split('/')[0] : 'default', version, alias: '', previousVersion: 0,
        caller: 'anonymous', details: { labels: { n: String(version) } },
      });
      await store.inTransaction((tx) => tx.recordEvent(ev('evented/a', 1)));
      await assert.rejects(store.inTransaction(async (tx) => {
        await tx.recordEvent(ev('evented/a', 2));
        throw new Error('rolled back');
      }), /rolled back/);
      // Concurrent writers: each event commits with its transaction, in id order.
      await Promise.all([3, 4, 5].map((n) => store.inTransaction((tx) => tx.recordEvent(ev(n === 4 ? 'b-model' : 'evented/a', n)))));
      const all = await store.eventsAfter({ afterId: start, limit: 10 });
      assert.deepEqual(all.map((e) => e.version).sort(), [1, 3, 4, 5]);
      assert.ok(all.every((e, i) => i === 0 || e.id > all[i - 1].id), 'ids ascending');
      assert.equal(await store.lastEventId(), all.at(-1)!.id);
      assert.deepEqual(all[0].details, { labels: { n: '1' } });
      assert.deepEqual((await store.eventsAfter({ afterId: start, limit: 10, model: 'b-model' })).map((e) => [e.version, e.namespace]), [[4, 'default']]);
      assert.deepEqual((await store.eventsAfter({ afterId: start, limit: 10, namespace: 'evented' })).map((e) => e.version).sort(), [1, 3, 5]);
      assert.deepEqual((await store.eventsAfter({ afterId: all[0].id, limit: 1 })).map((e) => e.id), [all[1].id]);
    });

    it('keeps webhooks from the event log\'s end, never showing their secret, listed by id, deleted with their attempts', async () => {
      const ev = (model: string): NewRegistryEvent => ({ kind: 'LABELS_CHANGED', model, namespace: 'default', version: 1, alias: '', previousVersion: 0, caller: 'c', details: {} });
      await store.inTransaction((tx) => tx.recordEvent(ev('before-hook')));
      const end = await store.lastEventId();
      const hook = (id: string, over: Partial<NewWebhook> = {}): NewWebhook => ({
        id, url: 'http://127.0.0.1:9/hook', namespace: '', model: '', kinds: [], secret: 's'.repeat(32), createdBy: 'token:tok_a', ...over,
      });
      const created = await store.inTransaction((tx) => tx.createWebhook(hook('wh_conf_a', { namespace: 'risk', kinds: ['VERSION_RELEASED', 'ALIAS_SET'] })));
      assert.equal(created.cursor, end, 'from the log\'s end');
      assert.deepEqual([created.namespace, created.kinds, created.disabled, created.failures, created.lastDeliveryTime], ['risk', ['VERSION_RELEASED', 'ALIAS_SET'], false, 0, null]);
      assert.ok(!('secret' in created));
      await assert.rejects(store.inTransaction(async (tx) => {
        await tx.createWebhook(hook('wh_conf_rolled_back'));
        throw new Error('rolled back');
      }), /rolled back/);
      assert.equal(await store.getWebhook('wh_conf_rolled_back'), null);
      await store.createWebhook(hook('wh_conf_b'));
      const listed = await store.listWebhooks({ pageSize: 10, afterId: 'wh_conf_' });
      assert.deepEqual(listed.filter((w) => w.id.startsWith('wh_conf_')).map((w) => w.id), ['wh_conf_a', 'wh_conf_b']);
      assert.ok(listed.every((w) => !('secret' in w)));
      assert.deepEqual((await store.listWebhooks({ pageSize: 1, afterId: 'wh_conf_a' })).map((w) => w.id), ['wh_conf_b']);
      assert.equal((await store.deleteWebhook('wh_conf_b'))?.id, 'wh_conf_b');
      assert.equal(await store.deleteWebhook('wh_conf_b'), null);
      assert.equal(await store.getWebhook('wh_conf_b'), null);
    });

    it('leases a webhook with work due to one owner, logs its attempts, and moves its cursor only for its owner', async () => {
      const ev = (version: number): NewRegistryEvent => ({ kind: 'LABELS_CHANGED', model: 'hooked', namespace: 'default', version, alias: '', previousVersion: 0, caller: 'c', details: {} });
      const w = await store.createWebhook({ id: 'wh_lease', url: 'http://127.0.0.1:9/', namespace: '', model: 'hooked', kinds: [], secret: 'k'.repeat(40), createdBy: 'c' });
      const claim = (owner: string, horizon: number, leaseMs = 60_000) => store.claimWebhooks({ owner, leaseMs, horizon, limit: 100 }).then((ws) => ws.filter((x) => x.id === w.id));
      assert.deepEqual(await claim('a', w.cursor), [], 'nothing past the cursor: no work');
      await store.inTransaction((tx) => tx.recordEvent(ev(1)));
      await store.inTransaction((tx) => tx.recordEvent(ev(2)));
      const [first, second] = await store.eventsAfter({ afterId: w.cursor, limit: 2, model: 'hooked' });
      const horizon = second.id;
      const [claimed] = await claim('a', horizon);
      assert.equal(claimed?.secret, 'k'.repeat(40), 'a claim has the secret, to sign with');
      assert.deepEqual(await claim('b', horizon), [], 'leased to a');
      assert.equal(await store.startWebhookAttempt(w.id, 'b', first), null, 'only the owner logs attempts');
      const one = (await store.startWebhookAttempt(w.id, 'a', first))!;
      assert.equal(one.attempt, 1);
      assert.equal((await store.listWebhookDeliveries({ webhookId: w.id, pageSize: 10 }))[0].finished, false, 'logged before it goes out');
      assert.equal(await store.finishWebhookAttempt(w.id, 'a', { deliveryId: one.deliveryId, eventId: first.id, statusCode: 500, error: 'HTTP 500', durationMs: 12 },
        { delivered: false, failures: 1, retryInMs: 3_600_000, disabledReason: '' }), true);
      let now = (await store.getWebhook(w.id))!;
      assert.deepEqual([now.cursor, now.failures, now.disabled], [w.cursor, 1, false]);
      assert.ok(now.nextAttemptTime.getTime() > Date.now() + 3_000_000);
      await store.releaseWebhookLease(w.id, 'a');
      assert.deepEqual(await claim('b', horizon), [], 'not due before its retry time');
      await store.enableWebhook(w.id);
      const [again] = await claim('b', horizon, 1);
      assert.equal(again?.id, w.id, 'due at once after EnableWebhook');
      const two = (await store.startWebhookAttempt(w.id, 'b', first))!;
      assert.equal(two.attempt, 2, 'the event\'s second attempt');
      await new Promise((r) => setTimeout(r, 20));
      // b's lease (1 ms) lapsed: c takes over, and b's unfinished attempt is marked interrupted.
      const [taken] = await claim('c', horizon);
      assert.equal(taken?.id, w.id);
      assert.equal(await store.renewWebhookLease(w.id, 'b', 60_000), false, 'b lost it');
      assert.equal(await store.finishWebhookAttempt(w.id, 'b', { deliveryId: two.deliveryId, eventId: first.id, statusCode: 200, error: '', durationMs: 1 }, { delivered: true }), false);
      const three = (await store.startWebhookAttempt(w.id, 'c', first))!;
      assert.equal(await store.finishWebhookAttempt(w.id, 'c', { deliveryId: three.deliveryId, eventId: first.id, statusCode: 204, error: '', durationMs: 5 }, { delivered: true }), true);
      now = (await store.getWebhook(w.id))!;
      assert.deepEqual([now.cursor, now.failures], [first.id, 0]);
      assert.ok(now.lastDeliveryTime instanceof Date);
      assert.equal(await store.startWebhookAttempt(w.id, 'c', first), null, 'a delivered event is not attempted again');
      const log = await store.listWebhookDeliveries({ webhookId: w.id, pageSize: 10 });
      assert.deepEqual(log.map((d) => [d.attempt, d.finished, d.statusCode, d.delivered, d.error]), [
        [3, true, 204, true, ''], [2, true, 0, false, INTERRUPTED_ATTEMPT], [1, true, 500, false, 'HTTP 500'],
      ], 'newest first');
      assert.deepEqual([log[2].eventId, log[2].kind, log[2].model, log[2].durationMs], [first.id, 'LABELS_CHANGED', 'hooked', 12]);
      assert.deepEqual((await store.listWebhookDeliveries({ webhookId: w.id, pageSize: 10, beforeId: log[1].id })).map((d) => d.attempt), [1]);
      assert.equal(await store.advanceWebhookCursor(w.id, 'b', horizon), false);
      assert.equal(await store.advanceWebhookCursor(w.id, 'c', horizon), true);
      assert.equal((await store.getWebhook(w.id))?.cursor, horizon);
      await store.releaseWebhookLease(w.id, 'c');
      assert.deepEqual(await claim('d', horizon), [], 'caught up');
      // Failing until disabled: no claims, with the reason, until enabled.
      await store.inTransaction((tx) => tx.recordEvent(ev(3)));
      const later = await store.lastEventId();
      const [d] = await claim('d', later);
      const [third] = await store.eventsAfter({ afterId: horizon, limit: 1, model: 'hooked' });
      const four = (await store.startWebhookAttempt(d.id, 'd', third))!;
      assert.equal(four.attempt, 1, 'attempts count per event');
      await store.finishWebhookAttempt(w.id, 'd', { deliveryId: four.deliveryId, eventId: third.id, statusCode: 0, error: 'ECONNREFUSED', durationMs: 1 },
        { delivered: false, failures: 10, retryInMs: 0, disabledReason: 'disabled after 10 failed attempts' });
      await store.releaseWebhookLease(w.id, 'd');
      now = (await store.getWebhook(w.id))!;
      assert.deepEqual([now.disabled, now.disabledReason], [true, 'disabled after 10 failed attempts']);
      assert.ok(now.disableTime instanceof Date);
      assert.deepEqual(await claim('e', later), [], 'a disabled webhook is not claimed');
      now = (await store.enableWebhook(w.id))!;
      assert.deepEqual([now.disabled, now.disabledReason, now.disableTime, now.failures, now.cursor], [false, '', null, 0, horizon], 'enabled where it stopped');
      assert.equal((await claim('e', later))[0]?.id, w.id);
      assert.equal(await store.enableWebhook('wh_none'), null);
      await store.deleteWebhook(w.id);
      assert.deepEqual(await store.listWebhookDeliveries({ webhookId: w.id, pageSize: 10 }), [], 'deleted with its attempts');
    });

    it('keeps audit records of a call once, newest first, filtered and paged, and none of a rolled-back change', async () => {
      const caller = `token:tok_conformance_${Date.now()}`;
      const event = (n: number, over: Partial<NewAuditEvent> = {}): NewAuditEvent => ({
        callId: `00000000-0000-4000-9000-${String(n).padStart(12, '0')}`, caller, rpc: 'kiln.v1.Registry/UploadModel',
        model: 'audited/m', namespace: 'audited', version: n, result: 'OK', message: `created version ${n}`, peer: '127.0.0.1:1', ...over,
      });
      assert.equal(await store.recordAuditEvent(event(1)), true);
      assert.equal(await store.recordAuditEvent(event(1, { result: 'INTERNAL' })), false, 'a call is recorded once');
      await store.inTransaction(async (tx) => {
        await tx.insertVersion(newVersion('audited/m'));
        assert.equal(await tx.recordAuditEvent(event(2)), true);
      });
      await assert.rejects(store.inTransaction(async (tx) => {
        await tx.recordAuditEvent(event(3));
        throw new Error('the change failed');
      }), /the change failed/);
      await store.recordAuditEvent(event(4, { rpc: 'kiln.v1.Registry/DeleteModelVersion', result: 'PERMISSION_DENIED', model: 'other/m', namespace: 'other' }));

      const mine = await store.listAuditEvents({ pageSize: 10, caller });
      assert.deepEqual(mine.map((e) => e.version), [4, 2, 1], 'newest first, the rolled-back one absent');
      assert.ok(mine[0].id > mine[1].id && mine[1].id > mine[2].id);
      assert.deepEqual({ ...mine[2], id: 0, time: null }, { ...event(1), id: 0, time: null });
      assert.ok(mine[2].time instanceof Date && Math.abs(mine[2].time.getTime() - Date.now()) < 60_000);

      const page = await store.listAuditEvents({ pageSize: 2, caller });
      assert.deepEqual((await store.listAuditEvents({ pageSize: 2, caller, beforeId: page[1].id })).map((e) => e.version), [1]);
      assert.deepEqual((await store.listAuditEvents({ pageSize: 10, caller, namespace: 'audited' })).map((e) => e.version), [2, 1]);
      assert.deepEqual((await store.listAuditEvents({ pageSize: 10, caller, model: 'other/m' })).map((e) => e.version), [4]);
      assert.deepEqual((await store.listAuditEvents({ pageSize: 10, caller, result: 'PERMISSION_DENIED' })).map((e) => e.version), [4]);
      assert.deepEqual((await store.listAuditEvents({ pageSize: 10, caller, rpc: 'kiln.v1.Registry/UploadModel' })).map((e) => e.version), [2, 1]);
      assert.deepEqual(await store.listAuditEvents({ pageSize: 10, caller, startTime: new Date(Date.now() + HOUR) }), []);
      assert.deepEqual(await store.listAuditEvents({ pageSize: 10, caller, endTime: new Date(Date.now() - HOUR) }), []);
      assert.equal((await store.listAuditEvents({ pageSize: 10, caller, startTime: new Date(Date.now() - HOUR), endTime: new Date(Date.now() + HOUR) })).length, 3);
    });
  });
}
