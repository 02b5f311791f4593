// The Python and Go SDKs' own test suites (pytest, go test) against Kiln started as a real subprocess
// (`tsx services/all.ts`) on real Postgres and MinIO: uploads of real model files, contracts, byte-identical downloads.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
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

  it('the Python SDK passes its pytest suite (upload, get, list, watch, download, delete, typed errors)', async () => {
    const ran = await runTool(tools.python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'sdk/python/tests'], {
      cwd: REPO_ROOT,
      // The SDK from the source tree, not an installed copy.
      env: { KILN_ADDRESS: kiln.registry, PYTHONPATH: path.join(REPO_ROOT, 'sdk/python'), PYTHONDONTWRITEBYTECODE: '1' },
      timeoutMs: 10 * 60_000,
    });
    assert.equal(ran.code, 0, `pytest failed (exit ${ran.code}):\n${ran.output}\n--- kiln output ---\n${kiln.output().slice(-5000)}`);
    const passed = /(\d+) passed/.exec(ran.output);
    assert.ok(passed && Number(passed[1]) >= 8, `pytest ran too few tests:\n${ran.output}`);
    assert.doesNotMatch(ran.output, /skipped|xfail/, `pytest skipped tests:\n${ran.output}`);
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
