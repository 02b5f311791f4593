// End-to-end tests of the `kiln` CLI against `npm start` (services/all.ts) on embedded defaults: PGlite, the local
// blob folder and an OCI layout, so the embedded path is exercised as a user runs it; and SIGTERM shutdown.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registryClient } from '@kiln/api';
import { freePort } from './helpers/test-config';

const root = path.resolve(import.meta.dirname, '..');
const kilnBin = path.join(root, 'cli/bin/kiln');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('kiln CLI against npm start on embedded defaults', () => {
  let server: ChildProcess;
  let address: string;
  let dataDir: string;

  const kiln = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(kilnBin, args, { env: { ...process.env, KILN_ADDRESS: address }, cwd: root }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-'));
    const [r, b, i] = [await freePort(), await freePort(), await freePort()];
    address = `127.0.0.1:${r}`;
    server = spawn(process.execPath, [path.join(root, 'scripts/service.mjs'), path.join(root, 'services/all.ts')], {
      cwd: root,
      env: {
        ...process.env,
        KILN_DATA_DIR: dataDir,
        KILN_REGISTRY_LISTEN: address,
        KILN_BUILDER_LISTEN: `127.0.0.1:${b}`,
        KILN_INFERENCE_LISTEN: `127.0.0.1:${i}`,
        KILN_LOG_LEVEL: 'warn',
        KILN_REGISTRY_METRICS_LISTEN: 'off',
        KILN_BUILDER_METRICS_LISTEN: 'off',
        KILN_INFERENCE_METRICS_LISTEN: 'off',
        // Embedded defaults: none of the real servers' variables reach the service.
        DATABASE_URL: '',
        KILN_S3_BUCKET: '',
        KILN_IMAGE_REGISTRY: '',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const client = registryClient(address);
    await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 180_000, (e) => (e ? reject(e) : resolve())));
    client.close();
  });
  after(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
  });

  it('upload --wait --json releases the example and prints its version as proto3 JSON', async () => {
    const run = await kiln('upload', 'examples/iris-onnx', '--name', 'iris', '--wait', '--json', '-l', 'team=cli');
    assert.equal(run.code, 0, run.stderr);
    const v = JSON.parse(run.stdout);
    assert.equal(v.model, 'iris');
    assert.equal(v.version, '1', 'int64 is a string in proto3 JSON');
    assert.equal(v.status, 'MODEL_VERSION_STATUS_RELEASED');
    assert.match(v.imageReference, /^oci:.*kiln\/iris:1$/);
    assert.match(v.imageDigest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(v.labels.team, 'cli');
    assert.deepEqual(v.contract.signatures[0].inputs[0].tensor.shape.dims, [{ size: '-1', name: 'batch' }, { size: '4' }]);
  });

  it('get, list and watch read it back; watch of a released version exits 0', async () => {
    const get = await kiln('get', 'iris:1', '--json');
    assert.equal(get.code, 0, get.stderr);
    assert.equal(JSON.parse(get.stdout).status, 'MODEL_VERSION_STATUS_RELEASED');
    const text = await kiln('get', 'iris');
    assert.match(text.stdout, /iris:1\s+RELEASED/);
    assert.match(text.stdout, /measurements: float\[batch, 4\]/);
    const models = JSON.parse((await kiln('list', '--json')).stdout);
    assert.deepEqual(models.models.map((m: { name: string }) => m.name), ['iris']);
    const versions = JSON.parse((await kiln('list', 'iris', '--status', 'released', '--json')).stdout);
    assert.deepEqual(versions.versions.map((v: { version: string }) => v.version), ['1']);
    const watch = await kiln('watch', 'iris:1', '--json');
    assert.equal(watch.code, 0, watch.stderr);
  });

  it('download writes the files byte-identical', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-dl-'));
    const run = await kiln('download', 'iris:1', '-o', out);
    assert.equal(run.code, 0, run.stderr);
    assert.ok((await readFile(path.join(out, 'model.onnx'))).equals(await readFile(path.join(root, 'examples/iris-onnx/model.onnx'))));
  });

  it('exit codes: 3 for not found, 4 for a bad manifest, 2 for usage, 7 when the server is unreachable', async () => {
    const missing = await kiln('get', 'nope:1');
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /model nope does not exist/);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-bad-'));
    await writeFile(path.join(dir, 'model.pkl'), 'x');
    await writeFile(path.join(dir, 'kiln.yaml'), 'kind: Model\nname: bad\ncontract:\n  inputs:\n    x:\n      shape: [-1, 2.5]\n      type: float32\n');
    const bad = await kiln('upload', dir, '--name', 'bad', '-q');
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /contract\.inputs\.x\.shape/);
    assert.equal((await kiln('frobnicate')).code, 2);
    const down = await new Promise<Run>((resolve) =>
      execFile(kilnBin, ['get', 'iris', '--address', '127.0.0.1:9'], (err, stdout, stderr) =>
        resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr })),
    );
    assert.equal(down.code, 7, down.stderr);
  });

  it('contract prints a local contract with no server', async () => {
    const run = await kiln('contract', 'examples/iris-onnx', '--json');
    assert.equal(run.code, 0, run.stderr);
    const c = JSON.parse(run.stdout);
    assert.equal(c.source, 'onnx');
    assert.equal(c.signatures[0].outputs[1].profile, 'DATA_PROFILE_CATEGORICAL');
  });

  it('delete removes the version: get is then not found', async () => {
    assert.equal((await kiln('delete', 'iris:1')).code, 0);
    assert.equal((await kiln('get', 'iris:1')).code, 3);
  });

  it('SIGTERM drains and exits 0', async () => {
    server.kill('SIGTERM');
    const [code] = await once(server, 'exit');
    assert.equal(code, 0);
  });
});
