// Unit tests for build planning: engine choice, runtime references, targets, labels and the inputs digest.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { KilnConfig } from '@kiln/config';
import { KilnError } from '@kiln/errors';
import { aliasTarget, checkAliasTag, imageTarget, INPUTS_LABEL, planBuild, resolveImageReference, type VersionToBuild } from './plan';

const images = (over: Partial<KilnConfig['images']> = {}): KilnConfig['images'] => ({
  sink: 'registry', layoutDir: '/data/images', registry: 'reg.example:5000', insecure: false, prefix: 'kiln', ...over,
});
const version = (over: Partial<VersionToBuild> = {}): VersionToBuild => ({
  model: 'iris', version: 3, status: 'MODEL_VERSION_STATUS_BUILDING', manifest: '', runtime: '', contract: null,
  files: [
    { path: 'b.bin', size: 10, sha256: 'b'.repeat(64), executable: false },
    { path: 'a.txt', size: 1, sha256: 'a'.repeat(64), executable: true },
  ],
  ...over,
});
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KilnError, String(err));
    return err.code;
  }
  return 'no error';
};

describe('planBuild', () => {
  it('builds daemonless without an install-command, files sorted by path, to <registry>/<prefix>/<namespace>/<model>:<version>', () => {
    const plan = planBuild(version(), { images: images() });
    assert.equal(plan.engine, 'daemonless');
    assert.deepEqual(plan.files.map((f) => f.path), ['a.txt', 'b.bin']);
    assert.equal(plan.base, null);
    assert.deepEqual(plan.target, { kind: 'registry', registry: 'reg.example:5000', repository: 'kiln/default/iris', tag: '3', reference: 'reg.example:5000/kiln/default/iris:3', layerIndex: 'kiln/kiln/layers' });
    assert.equal(plan.labels['ai.kiln.model.name'], 'iris');
    assert.equal(plan.labels['org.opencontainers.image.version'], '3');
    assert.match(plan.labels[INPUTS_LABEL], /^sha256:[a-f0-9]{64}$/);
  });

  it('uses the Docker engine for an install-command, on the runtime resolved against the configured registry', () => {
    const manifest = 'runtime: python:3.11\ninstall-command: pip install -r requirements.txt\n';
    const plan = planBuild(version({ manifest, runtime: 'python:3.11' }), { images: images(), dockerHost: 'unix:///var/run/docker.sock' });
    assert.equal(plan.engine, 'docker');
    assert.equal(plan.base, 'reg.example:5000/python:3.11');
    assert.equal(plan.installCommand, 'pip install -r requirements.txt');
    assert.equal(plan.labels['org.opencontainers.image.base.name'], 'reg.example:5000/python:3.11');
  });

  it('refuses an install-command without a Docker engine, without a runtime, or to an OCI layout (FAILED_PRECONDITION)', () => {
    const manifest = 'runtime: python:3.11\ninstall-command: make\n';
    assert.equal(code(() => planBuild(version({ manifest, runtime: 'python:3.11' }), { images: images() })), 'FAILED_PRECONDITION');
    assert.equal(code(() => planBuild(version({ manifest: 'install-command: make\n' }), { images: images(), dockerHost: 'unix:///d' })), 'FAILED_PRECONDITION');
    assert.equal(code(() => planBuild(version({ manifest, runtime: 'python:3.11' }), { images: images({ sink: 'layout' }), dockerHost: 'unix:///d' })), 'FAILED_PRECONDITION');
  });

  it('refuses a deleted version', () => {
    assert.equal(code(() => planBuild(version({ status: 'MODEL_VERSION_STATUS_DELETED' }), { images: images() })), 'FAILED_PRECONDITION');
  });

  it('writes /model/contract.json unless the model ships its own', () => {
    const contract = { signatures: [], source: 'manifest' };
    assert.equal(planBuild(version({ contract }), { images: images() }).writeContractFile, true);
    assert.equal(planBuild(version({ contract: null }), { images: images() }).writeContractFile, false);
    const own = version({ contract, files: [{ path: 'contract.json', size: 2, sha256: 'c'.repeat(64), executable: false }] });
    assert.equal(planBuild(own, { images: images() }).writeContractFile, false);
  });

  it('labels the source and revision from the version metadata when it has them, and only then', () => {
    const labels = planBuild(version({ metadata: { 'git.commit': 'abc123', 'git.url': 'https://git.example/iris.git', other: 'x' } }), { images: images() }).labels;
    assert.equal(labels['org.opencontainers.image.revision'], 'abc123');
    assert.equal(labels['org.opencontainers.image.source'], 'https://git.example/iris.git');
    assert.equal(planBuild(version({ metadata: { revision: 'r1', 'git.commit': 'ignored' } }), { images: images() }).labels['org.opencontainers.image.revision'], 'r1');
    const none = planBuild(version({ metadata: { other: 'x' } }), { images: images() }).labels;
    assert.ok(!('org.opencontainers.image.revision' in none) && !('org.opencontainers.image.source' in none));
  });

  it('gives the same inputs digest for the same inputs in any file order, and another for any change', () => {
    const a = planBuild(version(), { images: images() }).inputsDigest;
    const reordered = version();
    reordered.files.reverse();
    assert.equal(planBuild(reordered, { images: images() }).inputsDigest, a);
    const changed = version();
    changed.files[0] = { ...changed.files[0], sha256: 'd'.repeat(64) };
    assert.notEqual(planBuild(changed, { images: images() }).inputsDigest, a);
    assert.notEqual(planBuild(version({ runtime: 'reg.example:5000/base:1' }), { images: images() }).inputsDigest, a);
  });
});

describe('imageTarget', () => {
  it('names an OCI layout ref <prefix>/<namespace>/<model>:<version> and returns it in skopeo oci: syntax', () => {
    assert.deepEqual(imageTarget('iris', 2, images({ sink: 'layout' })), {
      kind: 'layout', dir: '/data/images', refName: 'kiln/default/iris:2', reference: 'oci:/data/images:kiln/default/iris:2',
    });
    assert.equal(imageTarget('team/iris', 2, images({ sink: 'layout' })).reference, 'oci:/data/images:kiln/team/iris:2');
  });
  it('puts a model into its namespace\'s repository, the default namespace\'s as default/<model>', () => {
    assert.equal(imageTarget('team/iris', 4, images()).reference, 'reg.example:5000/kiln/team/iris:4');
    assert.equal(imageTarget('iris', 4, images()).reference, 'reg.example:5000/kiln/default/iris:4');
    assert.equal(imageTarget('default/iris', 4, images()).reference, 'reg.example:5000/kiln/default/iris:4', 'the long form is the same model');
  });
  it('drops an empty prefix, and refuses a registry sink with no registry', () => {
    assert.equal(imageTarget('iris', 1, images({ prefix: '' })).reference, 'reg.example:5000/default/iris:1');
    assert.deepEqual(imageTarget('team/iris', 1, images({ prefix: '' })), {
      kind: 'registry', registry: 'reg.example:5000', repository: 'team/iris', tag: '1', reference: 'reg.example:5000/team/iris:1', layerIndex: 'kiln/layers',
    });
    assert.equal(code(() => imageTarget('iris', 1, images({ registry: undefined }))), 'FAILED_PRECONDITION');
  });
});

describe('alias tags', () => {
  it('an alias is a tag of the version images\' repository, in the registry or the OCI layout', () => {
    assert.equal(aliasTarget('fraud/scorer', 'production', images()).reference, 'reg.example:5000/kiln/fraud/scorer:production');
    assert.equal(aliasTarget('iris', 'production', images({ sink: 'layout' })).reference, 'oci:/data/images:kiln/default/iris:production');
  });
  it('takes every valid OCI tag but all-digit ones (versions\' own), naming the field', () => {
    for (const ok of ['production', 'v2', '_x', '1.0', '2-rc', 'A'.repeat(128), '0x1']) assert.equal(checkAliasTag(ok, 'f'), ok);
    for (const bad of ['', '3', '0042', '.x', '-x', 'a b', 'a/b', 'a:b', 'A'.repeat(129), 'é']) {
      assert.throws(() => checkAliasTag(bad, 'TagModelVersionRequest.tag'), (err: Error & { code?: string; location?: string }) =>
        err.code === 'INVALID_ARGUMENT' && err.location === 'TagModelVersionRequest.tag', bad);
    }
    assert.throws(() => checkAliasTag('12', 'f'), /all digits/);
  });
});

describe('resolveImageReference', () => {
  it('keeps an explicit registry host (a dot, a port or localhost) and prefixes the configured registry otherwise', () => {
    assert.equal(resolveImageReference('127.0.0.1:5000/base/busybox:latest', 'r:1'), '127.0.0.1:5000/base/busybox:latest');
    assert.equal(resolveImageReference('ghcr.io/org/img@sha256:' + 'a'.repeat(64), 'r:1'), 'ghcr.io/org/img@sha256:' + 'a'.repeat(64));
    assert.equal(resolveImageReference('localhost/img:1', 'r:1'), 'localhost/img:1');
    assert.equal(resolveImageReference('hydrosphere/serving-runtime-python-3.7:3.0.0', 'r:1'), 'r:1/hydrosphere/serving-runtime-python-3.7:3.0.0');
    assert.equal(resolveImageReference('busybox', 'r:1'), 'r:1/busybox');
  });
  it('refuses a bare name when no registry is configured (Kiln never guesses Docker Hub)', () => {
    assert.equal(code(() => resolveImageReference('busybox:1', undefined)), 'FAILED_PRECONDITION');
  });
});
