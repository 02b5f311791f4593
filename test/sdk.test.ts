// The Python and Go SDKs' own test suites (pytest against the pip-installed package, go test) and the Go example
// program against Kiln started as a real subprocess on real Postgres and MinIO; and the committed generated code
// (Python, Go, TypeScript) checked against what the generators make from proto/ today.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, sdkTools, startKilnProcess, type KilnProcess, type SdkTools } from './helpers/kiln-process';

interface Ran {
  code: number;
  output: string;
}

function runTool(cmd: string, args: string[], options: { cwd: string; env: Record<string, string>; timeoutMs: number }): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: options.timeoutMs, maxBuffer: 32 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}${err && code === 1 && !stdout ? `\n${err.message}` : ''}` });
      });
  });
}

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'third-party');

/** Relative path -> contents of every file under root. */
async function files(root: string): Promise<Map<string, Buffer>> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const found = await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => {
    const abs = path.join(e.parentPath ?? e.path, e.name);
    return [path.relative(root, abs), await readFile(abs)] as const;
  }));
  return new Map(found.sort(([a], [b]) => (a < b ? -1 : 1)));
}

async function ok(cmd: string, args: string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<string> {
  const ran = await runTool(cmd, args, { env: {}, timeoutMs: 5 * 60_000, ...options });
  assert.equal(ran.code, 0, `${cmd} ${args.join(' ')} failed (exit ${ran.code}):\n${ran.output}`);
  return ran.output;
}

describe('generated code', () => {
  it('the committed Python, Go and TypeScript stubs are exactly what the generators make from proto/ today', async () => {
    const tools = await sdkTools();
    // Each generator runs unchanged from a scratch copy of its folder, beside links to proto/ and node_modules/, so
    // its output lands in the copy and the committed files are only read.
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'kiln-stubs-'));
    try {
      for (const dir of ['proto', 'node_modules']) await symlink(path.join(REPO_ROOT, dir), path.join(tmp, dir));
      const copy = async (...files: string[]) => {
        for (const f of files) {
          await mkdir(path.dirname(path.join(tmp, f)), { recursive: true });
          await cp(path.join(REPO_ROOT, f), path.join(tmp, f));
        }
      };
      await copy('scripts/gen-types.sh', 'sdk/python/generate.sh', 'sdk/go/generate.sh', 'sdk/go/buf.gen.yaml');
      const env = { KILN_SDK_PYTHON: tools.python, KILN_GO_PLUGINS_BIN: tools.goPluginsBin, PYTHONDONTWRITEBYTECODE: '1' };
      await Promise.all(['scripts/gen-types.sh', 'sdk/python/generate.sh', 'sdk/go/generate.sh'].map((script) =>
        ok('bash', [path.join(tmp, script)], { cwd: tmp, env })));
      for (const generated of ['libs/api/generated', 'sdk/python/kiln_sdk/_gen', 'sdk/go/gen']) {
        const ran = await runTool('diff', ['-ru', '-x', '__pycache__', path.join(REPO_ROOT, generated), path.join(tmp, generated)],
          { cwd: tmp, env: {}, timeoutMs: 60_000 });
        assert.equal(ran.code, 0, `${generated} is stale: rerun its generator and commit the result\n${ran.output.slice(0, 5000)}`);
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('SDKs against live Kiln', () => {
  let kiln: KilnProcess;
  let tools: SdkTools;

  before(async () => {
    tools = await sdkTools();
    kiln = await startKilnProcess();
  });
  after(async () => {
    await kiln?.stop();
  });

  it('`pip install ./sdk/python` gives a package that passes the pytest suite run outside the repo', async (t) => {
    // A fresh venv that reuses the machine's grpcio/protobuf when they fit pyproject's bounds (pip fetches them
    // otherwise); the package is built from a copy, so the build leaves nothing in the source tree, and the tests run
    // from a copy too, so nothing but the installed package can be imported.
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'kiln-pip-'));
    try {
      await cp(path.join(REPO_ROOT, 'sdk/python'), path.join(tmp, 'src'), {
        recursive: true, filter: (f) => !f.includes('__pycache__') && !f.endsWith('.egg-info'),
      });
      await cp(path.join(REPO_ROOT, 'sdk/python/tests'), path.join(tmp, 'tests'), { recursive: true, filter: (f) => !f.includes('__pycache__') });
      await ok('python3', ['-m', 'venv', '--system-site-packages', path.join(tmp, 'venv')], { cwd: tmp });
      const python = path.join(tmp, 'venv/bin/python');
      await ok(python, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', `${path.join(tmp, 'src')}[test]`], { cwd: tmp });
      const env = { KILN_ADDRESS: kiln.registry, KILN_FIXTURES_DIR: FIXTURES, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: '' };
      const where = await ok(python, ['-c', 'import kiln_sdk; print(kiln_sdk.__file__)'], { cwd: tmp, env });
      assert.ok(where.trim().startsWith(path.join(tmp, 'venv')), `kiln_sdk imported from ${where}`);

      const ran = await runTool(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests'], { cwd: tmp, env, timeoutMs: 10 * 60_000 });
      assert.equal(ran.code, 0, `pytest failed (exit ${ran.code}):\n${ran.output}\n--- kiln output ---\n${kiln.output().slice(-5000)}`);
      const passed = /(\d+) passed/.exec(ran.output);
      assert.ok(passed && Number(passed[1]) >= 12, `pytest ran too few tests:\n${ran.output}`);
      assert.doesNotMatch(ran.output, /skipped|xfail/, `pytest skipped tests:\n${ran.output}`);
      t.diagnostic(ran.output.trim().split('\n').pop()!);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('the Go SDK passes go test ./... (upload, get, list, watch, download, delete, errors by code)', async (t) => {
    const ran = await runTool(tools.go, ['test', '-count=1', '-v', './...'], {
      cwd: path.join(REPO_ROOT, 'sdk/go'),
      env: { KILN_ADDRESS: kiln.registry, GOTOOLCHAIN: 'auto', GOFLAGS: '-mod=readonly' },
      timeoutMs: 15 * 60_000,
    });
    assert.equal(ran.code, 0, `go test failed (exit ${ran.code}):\n${ran.output}\n--- kiln output ---\n${kiln.output().slice(-5000)}`);
    assert.match(ran.output, /^ok\s+\S+/m, `go test ran no package:\n${ran.output}`);
    assert.doesNotMatch(ran.output, /--- SKIP/, `go test skipped tests:\n${ran.output}`);
    const passed = (ran.output.match(/^--- PASS/gm) ?? []).length;
    assert.ok(passed >= 10, `go test ran too few tests:\n${ran.output}`);
    t.diagnostic(`${passed} Go tests passed`);
  });

  it('the Go example program uploads a SavedModel folder with progress ending at its size, follows the build to RELEASED and downloads it back', async () => {
    const src = path.join(FIXTURES, 'tf-serving', 'saved_model_half_plus_two_cpu', '00000123');
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'kiln-go-example-'));
    try {
      const out = path.join(tmp, 'out');
      const ran = await runTool(tools.go, ['run', './cmd/kiln-example', '-addr', kiln.registry, '-name', 'go-example', '-out', out, src], {
        cwd: path.join(REPO_ROOT, 'sdk/go'),
        env: { GOTOOLCHAIN: 'auto', GOFLAGS: '-mod=readonly' },
        timeoutMs: 10 * 60_000,
      });
      assert.equal(ran.code, 0, `kiln-example failed (exit ${ran.code}):\n${ran.output}\n--- kiln output ---\n${kiln.output().slice(-5000)}`);
      const want = await files(src);
      const size = [...want.values()].reduce((n, b) => n + b.length, 0);
      assert.equal(ran.output.split('\r').pop()!.split('\n')[0], `uploaded ${size} / ${size} bytes`, ran.output);
      assert.match(ran.output, new RegExp(`^go-example version 1: ${want.size} files, ${size} bytes, contract from "savedmodel"$`, 'm'));
      assert.match(ran.output, /^ {2}signature serving_default: 1 inputs, 1 outputs$/m);
      assert.match(ran.output, /^ {2}build \| \S/m);
      assert.match(ran.output, /^ {2}status MODEL_VERSION_STATUS_RELEASED \S+/m);
      assert.match(ran.output, /^ {2}go-example:1 MODEL_VERSION_STATUS_RELEASED$/m);
      assert.match(ran.output, new RegExp(`^downloaded to ${out}$`, 'm'));
      assert.deepEqual(await files(out), want);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
