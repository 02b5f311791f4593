// End-to-end tests of the `kiln` CLI against `npm start` (services/all.ts) on embedded defaults: PGlite, the local
// blob folder and an OCI layout, so the embedded path is exercised as a user runs it; and SIGTERM shutdown. Then
// `kiln watch` of builds that take time, against the Docker engine and registry of scripts/test-env.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registryClient } from '@kiln/api';
import { startKiln, type RunningKiln } from './helpers/services';
import { freePort, requireEnv } from './helpers/test-config';
import { execute } from './helpers/kiln-process';

const root = path.resolve(import.meta.dirname, '..');
const kilnBin = path.join(root, 'cli/bin/kiln');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `kiln` command against `address`, its stdout and stderr pipes (not a terminal). */
const kilnAt = (address: string, ...args: string[]): Promise<Run> =>
  new Promise((resolve) => {
    execFile(kilnBin, args, { env: { ...process.env, KILN_ADDRESS: address }, cwd: root }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });

/** `watch --json` output: one WatchModelVersionResponse per line. */
const ndjson = (stdout: string) =>
  stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { version?: { version: string; status: string }; log?: { line: string; number: string } });

it('npm ci links the kiln command: npx kiln and node_modules/.bin/kiln run from any folder', async () => {
  const outside = await mkdtemp(path.join(os.tmpdir(), 'kiln-npx-'));
  const run = (file: string, args: string[], cwd: string) =>
    new Promise<Run>((resolve) =>
      execFile(file, args, { cwd }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })),
    );
  const linked = await run(path.join(root, 'node_modules/.bin/kiln'), ['--help'], outside);
  assert.equal(linked.code, 0, linked.stderr);
  assert.match(linked.stdout, /^Usage: kiln /);
  const npx = await run('npx', ['--no-install', 'kiln', '--help'], root);
  assert.equal(npx.code, 0, npx.stderr);
  assert.match(npx.stdout, /^Usage: kiln /);
});

describe('kiln CLI against npm start on embedded defaults', () => {
  let server: ChildProcess;
  let address: string;
  let dataDir: string;

  const kiln = (...args: string[]): Promise<Run> => kilnAt(address, ...args);

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
    assert.match(v.imageReference, /^oci:.*kiln\/default\/iris:1$/);
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
    // NDJSON: the version as it is, the build's log replayed, and the final version again as the last line.
    const events = ndjson(watch.stdout);
    assert.equal(events[0].version?.status, 'MODEL_VERSION_STATUS_RELEASED');
    assert.ok(events.some((e) => e.log?.number === '1' && /building iris version 1/.test(e.log.line)), watch.stdout);
    assert.equal(events.at(-1)?.version?.status, 'MODEL_VERSION_STATUS_RELEASED');
    const plain = await kiln('watch', 'iris:1');
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stderr, /^iris:1 RELEASED\n {2}\| building iris version 1/);
    assert.doesNotMatch(plain.stderr, /[\r\x1b]/, 'no spinner when stderr is not a terminal');
    assert.match(plain.stdout, /^iris:1 {2}RELEASED\n/);
  });

  it('list --namespace shows one namespace\'s models: team/iris in team, iris in default', async () => {
    const run = await kiln('upload', 'examples/iris-onnx', '--name', 'team/iris', '--json');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).model, 'team/iris');
    const names = async (...args: string[]) =>
      (JSON.parse((await kiln('list', ...args, '--json')).stdout).models ?? []).map((m: { name: string }) => m.name);
    assert.deepEqual(await names('--namespace', 'team'), ['team/iris']);
    assert.deepEqual(await names('--namespace', 'default'), ['iris']);
    assert.deepEqual(await names('--namespace', 'nobody'), []);
    assert.deepEqual(await names(), ['iris', 'team/iris']);
    assert.match((await kiln('list', '--namespace', 'team')).stdout, /^MODEL.*\nteam\/iris\s+1\s+1\s/);
    const bad = await kiln('list', '--namespace', 'Team');
    assert.equal(bad.code, 4, 'invalid argument');
    assert.match(bad.stderr, /namespace/);
    assert.equal((await kiln('list', 'team/iris', '--namespace', 'team')).code, 2, 'a usage error');
    assert.equal(JSON.parse((await kiln('list', 'team/iris', '--json')).stdout).versions[0].model, 'team/iris');
  });

  it('download writes the files byte-identical; with --json it prints what it wrote', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-dl-'));
    const run = await kiln('download', 'iris:1', '-o', out);
    assert.equal(run.code, 0, run.stderr);
    const onnx = await readFile(path.join(root, 'examples/iris-onnx/model.onnx'));
    assert.ok((await readFile(path.join(out, 'model.onnx'))).equals(onnx));
    const again = path.join(out, 'again');
    const json = await kiln('download', 'iris:1', '-o', again, '--json');
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), {
      model: 'iris', version: 1, path: again, fileCount: 1, bytes: onnx.length, files: [{ path: 'model.onnx', size: onnx.length }],
    });
    assert.equal((await kiln('download', 'iris:1', '-o', '-', '--json')).code, 2, '--json and a tar on stdout do not mix');
  });

  it('uploads a Hugging Face snapshot folder (every file a symlink into ../../blobs) as the files the links point to', async () => {
    const hf = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-hf-'));
    const onnx = await readFile(path.join(root, 'examples/iris-onnx/model.onnx'));
    await mkdir(path.join(hf, 'blobs'));
    await writeFile(path.join(hf, 'blobs', '3f1c0a'), onnx);
    await writeFile(path.join(hf, 'blobs', '9e2b7d'), '{"architectures": ["IrisClassifier"]}\n');
    const snapshot = path.join(hf, 'snapshots', '0123abcd');
    await mkdir(path.join(snapshot, 'onnx'), { recursive: true });
    await symlink('../../blobs/9e2b7d', path.join(snapshot, 'config.json'));
    await symlink('../../../blobs/3f1c0a', path.join(snapshot, 'onnx', 'model.onnx'));
    const run = await kiln('upload', snapshot, '--name', 'hf', '--json');
    assert.equal(run.code, 0, run.stderr);
    const v = JSON.parse(run.stdout) as { files: Array<{ path: string; size: string }> };
    assert.deepEqual(v.files.map((f) => [f.path, f.size]), [['config.json', '38'], ['onnx/model.onnx', String(onnx.length)]]);
    const out = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-hf-dl-'));
    assert.equal((await kiln('download', 'hf:1', '-o', out)).code, 0);
    assert.ok((await readFile(path.join(out, 'onnx', 'model.onnx'))).equals(onnx));
  });

  it('refuses a folder with a fifo or a symlink loop (exit 4, naming it); --skip-special uploads the rest with a warning', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-special-'));
    await writeFile(path.join(dir, 'model.onnx'), await readFile(path.join(root, 'examples/iris-onnx/model.onnx')));
    await new Promise<void>((resolve, reject) => execFile('mkfifo', [path.join(dir, 'events.pipe')], (err) => (err ? reject(err) : resolve())));
    const fifo = await kiln('upload', dir, '--name', 'special', '-q');
    assert.equal(fifo.code, 4, fifo.stderr);
    assert.match(fifo.stderr, new RegExp(`${path.join(dir, 'events.pipe')}: is a fifo, not a regular file`));
    await mkdir(path.join(dir, 'sub'));
    await symlink('..', path.join(dir, 'sub', 'parent'));
    const skipped = await kiln('upload', dir, '--name', 'special', '--skip-special', '--json');
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stderr, /warning: skipped .*events\.pipe: is a fifo/);
    assert.match(skipped.stderr, /warning: skipped .*sub\/parent: is a symlink to .*following it would loop/);
    assert.deepEqual((JSON.parse(skipped.stdout) as { files: Array<{ path: string }> }).files.map((f) => f.path), ['model.onnx']);
    const loopDir = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-loop-'));
    await writeFile(path.join(loopDir, 'model.onnx'), await readFile(path.join(root, 'examples/iris-onnx/model.onnx')));
    await mkdir(path.join(loopDir, 'sub'));
    await symlink('..', path.join(loopDir, 'sub', 'parent'));
    const loop = await kiln('upload', loopDir, '--name', 'special', '-q');
    assert.equal(loop.code, 4, loop.stderr);
    assert.match(loop.stderr, new RegExp(`${path.join(loopDir, 'sub', 'parent')}: is a symlink to .*following it would loop; pass --skip-special`));
  });

  it('list --status shows only the released or only the failed version; upload --wait and watch exit 9 on a failed build', async () => {
    assert.equal((await kiln('upload', 'examples/iris-onnx', '--name', 'mixed', '--wait', '-q')).code, 0);
    // An install-command build needs a Docker engine and a registry sink, which embedded defaults do not have.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-fails-'));
    const manifest = path.join(dir, 'kiln.yaml');
    await writeFile(manifest, 'kind: Model\nname: mixed\nruntime: registry.invalid/busybox:1.36\ninstall-command: "pip install nothing"\n');
    const failed = await kiln('upload', 'examples/iris-onnx', '--name', 'mixed', '--manifest', manifest, '--wait');
    assert.equal(failed.code, 9, failed.stderr);
    assert.match(failed.stderr, /\nmixed:2 (BUILDING\n(.*\n)*mixed:2 )?FAILED\n$/, 'the plan fails fast: the watch may start after it');
    assert.match(failed.stdout, /^mixed:2 {2}FAILED: .*install-command/);
    assert.match(failed.stdout, /^ {2}image: {4}no image \(build failed\)$/m, 'not "(not built yet)"');
    const only = async (status: string) =>
      (JSON.parse((await kiln('list', 'mixed', '--status', status, '--json')).stdout) as { versions?: Array<{ version: string; status: string }> })
        .versions?.map((v) => `${v.version} ${v.status}`);
    assert.deepEqual(await only('released'), ['1 MODEL_VERSION_STATUS_RELEASED']);
    assert.deepEqual(await only('failed'), ['2 MODEL_VERSION_STATUS_FAILED']);
    assert.deepEqual(await only('building'), undefined, 'no version is building: proto3 JSON omits the empty list');
    const text = await kiln('list', 'mixed', '--status', 'failed');
    assert.deepEqual(text.stdout.trimEnd().split('\n').slice(1).map((l) => l.trim().split(/\s+/).slice(0, 2)), [['2', 'FAILED']]);
    const watch = await kiln('watch', 'mixed:2');
    assert.equal(watch.code, 9, watch.stderr);
    assert.match(watch.stdout, /^mixed:2 {2}FAILED/);
    const json = await kiln('watch', 'mixed:2', '--json');
    assert.equal(json.code, 9, json.stderr);
    assert.equal(ndjson(json.stdout).at(-1)?.version?.status, 'MODEL_VERSION_STATUS_FAILED');
    assert.equal((await kiln('watch', 'mixed:1')).code, 0);
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
    assert.match(down.stderr, /^kiln: cannot reach the registry at 127\.0\.0\.1:9 \(connection refused\): is it running\? \(--address, KILN_ADDRESS\)$/m);
  });

  it('usage mistakes exit 2 before anything is sent, naming the valid choices', async () => {
    // A registry that is not there: a command that called it would exit 7.
    const offline = (...args: string[]) => execute(kilnBin, [...args, '--address', '127.0.0.1:9']);
    const cases: Array<[string[], RegExp]> = [
      [['delete', 'fraud'], /give the version to delete as NAME:VERSION/],
      [['get', 'fraud:abc'], /version in fraud:abc must be a whole number/],
      [['list', 'fraud', '--status', 'bogus'], /--status: unknown status bogus: one of building, released, failed, deleted/],
      [['list', '-l', 'team=risk'], /--label filters a model's versions: give the model's name/],
      [['list', '--status', 'released'], /--status filters a model's versions/],
      [['alias', 'set', 'fraud', '3'], /expected NAME@ALIAS, got fraud/],
      [['audit', '--limit', '0'], /--limit: expected a positive whole number/],
    ];
    for (const [args, message] of cases) {
      const run = await offline(...args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message, args.join(' '));
    }
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

  it('upload takes the manifest\'s name when --name is not given, says so when --name differs, and asks for a name when nothing gives one', async () => {
    const named = await kiln('upload', 'examples/iris-onnx', '--json');
    assert.equal(named.code, 0, named.stderr);
    assert.equal(JSON.parse(named.stdout).model, 'iris', 'the manifest says name: iris');
    const other = await kiln('upload', 'examples/iris-onnx', '--name', 'iris-copy', '--json');
    assert.equal(other.code, 0, other.stderr);
    assert.equal(JSON.parse(other.stdout).model, 'iris-copy');
    assert.match(other.stderr, /uploading as iris-copy; the manifest names iris/);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-nameless-'));
    await writeFile(path.join(dir, 'model.bin'), 'x');
    const nameless = await kiln('upload', dir);
    assert.equal(nameless.code, 2, nameless.stderr);
    assert.match(nameless.stderr, /give the model's name with --name \(no manifest here names it\)/);
  });

  it('SIGTERM drains and exits 0', async () => {
    server.kill('SIGTERM');
    const [code] = await once(server, 'exit');
    assert.equal(code, 0);
  });
});

const DOCKER_VARS = ['KILN_TEST_DATABASE_URL', 'KILN_TEST_S3_ENDPOINT', 'KILN_TEST_REGISTRY', 'KILN_TEST_DOCKER_HOST', 'KILN_TEST_BASE_IMAGE'] as const;

describe('kiln watch of install-command builds (Docker engine and registry of scripts/test-env)', () => {
  const missing = DOCKER_VARS.filter((v) => !process.env[v]);
  let kiln: RunningKiln | undefined;
  const built: string[] = [];
  before(async () => {
    if (!missing.length) kiln = await startKiln();
  });
  after(async () => {
    // The engine keeps the images it built and pushed: remove this run's.
    if (built.length) await new Promise((resolve) => execFile('docker', ['-H', process.env.KILN_TEST_DOCKER_HOST!, 'rmi', '-f', ...built], resolve));
    await kiln?.stop();
  });

  /** A model folder whose install-command runs `command` (a nonce file keeps the engine's layer cache out). */
  async function installModel(command: string): Promise<{ dir: string; manifest: string }> {
    const env = requireEnv(...DOCKER_VARS);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-install-'));
    await writeFile(path.join(dir, 'weights.txt'), 'weights\n');
    await writeFile(path.join(dir, 'nonce.txt'), `${process.pid}-${Date.now()}-${Math.random()}\n`);
    const manifest = path.join(dir, 'kiln.yaml');
    await writeFile(manifest, `kind: Model\nname: m\nruntime: ${env.KILN_TEST_BASE_IMAGE}\ninstall-command: "${command}"\n`);
    return { dir, manifest };
  }

  it('watch of a building version, on pipes, prints each status and log line as it comes, then the final version', async () => {
    assert.deepEqual(missing, [], 'run through scripts/test, or eval "$(bash scripts/test-env start)" first');
    const { dir, manifest } = await installModel('echo kiln-step-one && sleep 5 && echo kiln-step-two');
    const created = await kilnAt(kiln!.registry, 'upload', dir, '--name', 'slow', '--manifest', manifest, '--json');
    assert.equal(created.code, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).status, 'MODEL_VERSION_STATUS_BUILDING');

    // --json, read as it streams: the first event must arrive while the build still runs, not at the end.
    const started = Date.now();
    const json = spawn(kilnBin, ['watch', 'slow:1', '--json'], { env: { ...process.env, KILN_ADDRESS: kiln!.registry }, cwd: root });
    const jsonExit = once(json, 'exit').then(([code]) => ({ code: code as number, at: Date.now() - started }));
    let out = '';
    let firstLineAt = 0;
    json.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!firstLineAt && out.includes('\n')) firstLineAt = Date.now() - started;
    });
    const text = await kilnAt(kiln!.registry, 'watch', 'slow:1');
    const { code: jsonCode, at: exitAt } = await jsonExit;

    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stderr, /^slow:1 BUILDING\n/);
    // The registry may store the builder's last log line after the status change: it can follow RELEASED.
    assert.match(text.stderr, /\n {2}\| kiln-step-one\n(.*\n)* {2}\| kiln-step-two\n(.*\n)*slow:1 RELEASED\n/);
    assert.doesNotMatch(text.stderr, /\x1b\[2K|\r[|/\\-] /, 'no spinner and no line erasing on a pipe (the engine\'s own lines may hold control characters)');
    assert.match(text.stdout, /^slow:1 {2}RELEASED\n/);

    assert.equal(jsonCode, 0);
    const events = ndjson(out);
    assert.equal(events[0].version?.status, 'MODEL_VERSION_STATUS_BUILDING');
    assert.ok(exitAt - firstLineAt > 2000, `first line at ${firstLineAt} ms, exit at ${exitAt} ms: lines must stream`);
    const lines = events.flatMap((e) => (e.log ? [e.log.line] : []));
    assert.ok(lines.indexOf('kiln-step-one') >= 0 && lines.indexOf('kiln-step-one') < lines.indexOf('kiln-step-two'), lines.join('\n'));
    assert.equal(events.at(-1)?.version?.status, 'MODEL_VERSION_STATUS_RELEASED');
    built.push((JSON.parse((await kilnAt(kiln!.registry, 'get', 'slow:1', '--json')).stdout) as { imageReference: string }).imageReference);
  });

  it('upload --wait of a failing install-command shows its log and exits 9 with the reason', async () => {
    assert.deepEqual(missing, [], 'run through scripts/test, or eval "$(bash scripts/test-env start)" first');
    const { dir, manifest } = await installModel('echo kiln-about-to-fail; exit 3');
    const run = await kilnAt(kiln!.registry, 'upload', dir, '--name', 'fails', '--manifest', manifest, '--wait');
    assert.equal(run.code, 9, run.stderr);
    assert.match(run.stderr, /\n {2}\| kiln-about-to-fail\n(.*\n)*fails:1 FAILED\n/);
    assert.match(run.stdout, /^fails:1 {2}FAILED: .*returned a non-zero code: 3/);
  });
});
