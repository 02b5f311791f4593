// Aliases end to end, on the real Postgres and registry: set and moved on released versions, read by alias (Get,
// Download, Watch) on a second replica that sees every move within a second, 20 clients reading through a move without
// an error, the delete guard, history and audit, version edits, and the CLI's NAME@ALIAS.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { grpc, registryClient, type RegistryClient } from '@kiln/api';
import { promiseClient, type RegistryPromiseClient } from '@kiln/api/client';
import { createLogger } from '@kiln/log';
import { startKiln, uploadModel, waitForBuild, type RunningKiln } from './helpers/services';
import { execute, REPO_ROOT } from './helpers/kiln-process';
import { startRegistry } from '../services/registry/src/index';

const log = createLogger('aliases-test', 'silent');
const codeOf = (err: unknown) => grpc.status[(err as { code?: number }).code ?? -1];

describe('aliases on a live registry', () => {
  let kiln: RunningKiln;
  let replica: { address: string; stop(): Promise<void> };
  const raw: RegistryClient[] = [];
  let api: RegistryPromiseClient;
  let other: RegistryPromiseClient;

  /** A released version of `model` with one file of `content`. */
  async function released(model: string, content: string): Promise<number> {
    const v = await uploadModel(kiln.client, model, [{ path: 'model.bin', content }]);
    const built = await waitForBuild(kiln.client, model, Number(v.version));
    assert.equal(built.version.status, 'MODEL_VERSION_STATUS_RELEASED', built.log.join('\n'));
    return Number(v.version);
  }

  /** The digest a registry serves for `host/repository:tag` (what `docker pull` would get). */
  async function tagDigest(reference: string): Promise<string | null> {
    const slash = reference.indexOf('/');
    const colon = reference.lastIndexOf(':');
    const res = await fetch(`http://${reference.slice(0, slash)}/v2/${reference.slice(slash + 1, colon)}/manifests/${reference.slice(colon + 1)}`, {
      method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    return res.ok ? res.headers.get('docker-content-digest') : `HTTP ${res.status}`;
  }

  before(async () => {
    kiln = await startKiln();
    replica = await startRegistry({ ...kiln.config, listen: { ...kiln.config.listen, registry: '127.0.0.1:0' } }, log);
    api = promiseClient(kiln.client);
    const c = registryClient(replica.address);
    raw.push(c);
    other = promiseClient(c);
  });
  after(async () => {
    for (const c of raw) c.close();
    await replica?.stop();
    await kiln?.stop();
  });

  test('an alias is read by Get, Download and Watch on every replica, guards its version, and keeps its history', async () => {
    const one = await released('fraud', 'weights one');
    const two = await released('fraud', 'weights two');
    const set = await api.SetModelAlias({ model: 'fraud', alias: 'production', version: one, reason: 'launch' });
    assert.deepEqual([set.model, set.alias, Number(set.version), set.updatedBy], ['fraud', 'production', one, 'anonymous']);
    assert.match(set.imageReference, /\/default\/fraud:production$/);
    assert.deepEqual([set.tagPending, set.tagError], [false, ''], 'the tag moved within the call');
    const versionOne = await api.GetModelVersion({ model: 'fraud', version: one });
    assert.equal(await tagDigest(set.imageReference), versionOne.imageDigest, 'the registry\'s tag is the version\'s image');
    assert.equal(Number((await other.GetModelVersion({ model: 'fraud', alias: 'production' })).version), one);
    assert.deepEqual((await api.GetModelVersion({ model: 'fraud', version: one })).aliases, ['production']);

    const chunks: Buffer[] = [];
    for await (const m of other.DownloadModelVersion({ model: 'fraud', alias: 'production' })) chunks.push(m.chunk);
    assert.ok(Buffer.concat(chunks).includes(Buffer.from('weights one')), 'the alias\'s files');
    const watched: number[] = [];
    for await (const e of other.WatchModelVersion({ model: 'fraud', alias: 'production' })) if (e.version) watched.push(Number(e.version.version));
    assert.deepEqual(watched, [one, one]);

    const refused = await api.DeleteModelVersion({ model: 'fraud', version: one }).catch((err) => [codeOf(err), (err as grpc.ServiceError).details]);
    assert.deepEqual(refused, ['FAILED_PRECONDITION', `version ${one} of fraud is what fraud@production points at: move or delete the alias first`]);

    const moved = await api.SetModelAlias({ model: 'fraud', alias: 'production', version: two, reason: 'better recall' });
    const movedAt = Date.now();
    assert.equal(await tagDigest(moved.imageReference), (await api.GetModelVersion({ model: 'fraud', version: two })).imageDigest, 'the tag followed the move');
    let seen = one;
    while (seen !== two && Date.now() - movedAt < 2000) seen = Number((await other.GetModelVersion({ model: 'fraud', alias: 'production' })).version);
    assert.equal(seen, two, 'the other replica follows the move');
    assert.ok(Date.now() - movedAt < 1000, `the other replica saw the move ${Date.now() - movedAt} ms after it`);
    assert.deepEqual((await other.GetModelVersion({ model: 'fraud', version: one })).aliases, [], 'the old version\'s view forgets the alias');
    await api.DeleteModelVersion({ model: 'fraud', version: one });

    const history = (await api.ListAliasHistory({ model: 'fraud', alias: 'production' })).moves;
    assert.deepEqual(history.map((m) => [Number(m.fromVersion), Number(m.toVersion), m.reason]), [[one, two, 'better recall'], [0, one, 'launch']]);
    const audited = (await api.ListAuditEvents({ model: 'fraud', rpc: 'SetModelAlias' })).events;
    assert.deepEqual(audited.map((e) => e.message), [`moved alias production from version ${one} to version ${two}: better recall`, `created alias production to version ${one}: launch`]);
    assert.equal(await api.GetModelVersion({ model: 'fraud', alias: 'staging' }).catch(codeOf), 'NOT_FOUND');
    assert.equal(await api.GetModelVersion({ model: 'fraud', alias: 'production', version: 2 }).catch(codeOf), 'INVALID_ARGUMENT');
    assert.equal(await api.SetModelAlias({ model: 'fraud', alias: 'production', version: one }).catch(codeOf), 'NOT_FOUND', 'a deleted version');
    const gone = await api.DeleteModelAlias({ model: 'fraud', alias: 'production', reason: 'retired' });
    assert.equal(Number(gone.version), two);
    assert.equal(await other.GetModelVersion({ model: 'fraud', alias: 'production' }).catch(codeOf), 'NOT_FOUND');
  });

  test('20 clients reading an alias while it moves back and forth see the old or the new version, never an error', async () => {
    const a = await released('busy', 'a');
    const b = await released('busy', 'b');
    await api.SetModelAlias({ model: 'busy', alias: 'production', version: a });
    const seen = new Set<number>();
    const errors: string[] = [];
    let moving = true;
    const readers = Array.from({ length: 20 }, async (_, i) => {
      const client = i % 2 ? other : api;
      while (moving) {
        try {
          seen.add(Number((await client.GetModelVersion({ model: 'busy', alias: 'production' })).version));
        } catch (err) {
          errors.push(String(err));
        }
      }
    });
    for (let i = 0; i < 20; i++) await api.SetModelAlias({ model: 'busy', alias: 'production', version: i % 2 ? a : b });
    moving = false;
    await Promise.all(readers);
    assert.deepEqual(errors, []);
    assert.deepEqual([...seen].sort(), [a, b].sort());
  });

  test('a protected alias moves only to a compatible contract (real ONNX models), unless breaking changes are allowed, recorded', async () => {
    const fixture = (name: string) => path.join(REPO_ROOT, 'test/fixtures/onnx-diff', name, 'model.onnx');
    const versions: Record<string, number> = {};
    for (const name of ['base', 'same', 'batch-widened', 'output-added', 'dtype-changed', 'input-added', 'rank-changed', 'dim-changed', 'input-renamed']) {
      const v = await uploadModel(kiln.client, 'guarded', [{ path: 'model.onnx', file: fixture(name) }]);
      const built = await waitForBuild(kiln.client, 'guarded', Number(v.version));
      assert.equal(built.version.status, 'MODEL_VERSION_STATUS_RELEASED', built.log.join('\n'));
      versions[name] = Number(v.version);
    }
    const protect = (name: string, allowBreakingChanges = false) =>
      api.SetModelAlias({ model: 'guarded', alias: 'production', version: versions[name], protected: true, allowBreakingChanges, reason: `to ${name}` });
    const reset = () => protect('base', true);
    await protect('base');
    for (const name of ['same', 'batch-widened', 'output-added']) {
      assert.equal(Number((await protect(name)).version), versions[name], `${name} is compatible`);
      await reset();
    }
    const breaking: Record<string, RegExp> = {
      'dtype-changed': /inputs\["features"\]\.dtype: .*float → double/,
      'input-added': /inputs\["country"\]: /,
      'rank-changed': /inputs\["features"\]\.shape: /,
      'dim-changed': /inputs\["features"\]\.shape\.dims\[1\]: .*30 → 31/,
      'input-renamed': /inputs\["features"\]: .*inputs\["inputs"\]|inputs\["inputs"\]: .*inputs\["features"\]/s,
    };
    for (const [name, change] of Object.entries(breaking)) {
      const refused = await protect(name).then(() => 'moved', (err: grpc.ServiceError) => [codeOf(err), err.details]);
      assert.equal(refused[0], 'FAILED_PRECONDITION', `${name}: ${refused}`);
      assert.match(refused[1], /guarded@production is protected and version \d+'s contract breaks/);
      assert.match(refused[1], change, name);
      const diff = await api.DiffContracts({ against: { model: 'guarded', alias: 'production' }, version: { model: 'guarded', version: versions[name] } });
      assert.equal(diff.breaking, true, name);
      assert.equal(Number(diff.againstVersion), versions.base);
    }
    const allowed = await protect('dtype-changed', true);
    assert.equal(Number(allowed.version), versions['dtype-changed']);
    const [last] = (await api.ListAliasHistory({ model: 'guarded', alias: 'production', pageSize: 1 })).moves;
    assert.equal(last.breaking, true);
    const [audit] = (await api.ListAuditEvents({ model: 'guarded', rpc: 'SetModelAlias', pageSize: 1 })).events;
    assert.match(audit.message, /allowing \d+ breaking changes? \(.*dtype/);

    // kiln diff: a local model folder or a stored version, against an alias; exit 12 on a breaking change.
    const kilnCli = (...args: string[]) => execute(path.join(REPO_ROOT, 'cli/bin/kiln'), args, { ...process.env, KILN_ADDRESS: kiln.registry });
    const compatible = await kilnCli('diff', `guarded:${versions['batch-widened']}`, `guarded:${versions.base}`);
    assert.equal(compatible.code, 0, compatible.stderr);
    assert.match(compatible.stdout, /^compatible\s+signatures\[.*\]\.inputs\["features"\]\.shape\.dims\[0\]: /m);
    const local = await kilnCli('diff', path.dirname(fixture('dim-changed')), `guarded:${versions.base}`);
    assert.equal(local.code, 12, local.stdout + local.stderr);
    assert.match(local.stdout, /^breaking\s+.*dims\[1\]/m);
    assert.match(local.stdout, /dim-changed against guarded:\d+: 2 breaking$/m);
  });

  test('UpdateModelVersion changes labels and the description, and nothing else', async () => {
    const v = await released('edited', 'e');
    const before = await api.GetModelVersion({ model: 'edited', version: v });
    const updated = await api.UpdateModelVersion({ model: 'edited', version: v, setLabels: { stage: 'prod' }, description: 'the edited model' });
    assert.deepEqual([updated.labels, updated.description, updated.imageDigest, updated.files], [{ stage: 'prod' }, 'the edited model', before.imageDigest, before.files]);
    assert.equal((await other.GetModelVersion({ model: 'edited', version: v })).description, 'the edited model', 'the other replica\'s cache forgot it');
    const removed = await api.UpdateModelVersion({ model: 'edited', version: v, removeLabels: ['stage'] });
    assert.deepEqual([removed.labels, removed.description], [{}, 'the edited model']);
    assert.equal(await api.UpdateModelVersion({ model: 'edited', version: v, setLabels: { '-bad': 'x' } }).catch(codeOf), 'INVALID_ARGUMENT');
  });

  test('the CLI reads NAME@ALIAS and sets, lists and shows the history of aliases', async () => {
    const v = await released('cli-model', 'c');
    const kilnCli = (...args: string[]) => execute(path.join(REPO_ROOT, 'cli/bin/kiln'), args, { ...process.env, KILN_ADDRESS: kiln.registry });
    const set = await kilnCli('alias', 'set', 'cli-model@production', String(v), '--reason', 'ship it');
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, new RegExp(`^cli-model@production -> ${v}\\n  image tag: \\S+/default/cli-model:production`));
    const got = await kilnCli('get', 'cli-model@production');
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, new RegExp(`^cli-model:${v} `));
    assert.match(got.stdout, /aliases:\s+production/);
    const listed = await kilnCli('alias', 'list', 'cli-model');
    assert.match(listed.stdout, new RegExp(`^production\\s+${v}\\s+no\\s`, 'm'));
    const history = await kilnCli('alias', 'history', 'cli-model@production');
    assert.match(history.stdout, new RegExp(`production\\s+-\\s+${v}\\s+anonymous\\s+ship it`));
    assert.equal((await kilnCli('delete', 'cli-model@production')).code, 4);
    assert.equal((await kilnCli('alias', 'set', 'cli-model@latest', String(v))).code, 4, 'latest is kept for the newest version');
  });
});
