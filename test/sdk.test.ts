// The Python and Go SDKs' own test suites (pytest against the pip-installed package, go test) and the Go example
// program against Kiln started as a real subprocess on real Postgres and MinIO; and the committed generated code
// (Python, Go, TypeScript) checked against what the generators make from proto/ today.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
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

const FIXTURES = path.join(REPO_ROOT, '..', 'shared', 'fixtures');

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

  it('the Go SDK passes go test ./... (upload, get, list, watch, download, delete, errors by code)', async () => {
    const ran = await runTool(tools.go, ['test', '-count=1', '-v', './...'], {
      cwd: path.join(REPO_ROOT, 'sdk/go'),
      env: { KILN_ADDRESS: kiln.registry, GOTOOLCHAIN: 'auto', GOFLAGS: '-mod=readonly' },
      timeoutMs: 15 * 60_000,
    });
    assert.equal(ran.code, 0, `go test failed (exit ${ran.code}):\n${ran.output}\n--- kiln output ---\n${kiln.output().slice(-5000)}`);
    assert.match(ran.output, /^ok\s+\S+/m, `go test ran no package:\n${ran.output}`);
    assert.doesNotMatch(ran.output, /--- SKIP/, `go test skipped tests:\n${ran.output}`);
  });
});
