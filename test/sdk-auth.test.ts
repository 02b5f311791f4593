// The Python and Go SDKs and grpcurl with a CA and a bearer token, against Kiln as a real process serving TLS with
// authentication on (KILN_ADMIN_TOKEN, KILN_SERVICE_TOKEN): with a token a call works, without one (or with a wrong
// one) it fails UNAUTHENTICATED, and a token without the role fails PERMISSION_DENIED, each as the SDK's own error.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registryClient, type ClientTlsSettings, type RegistryClient } from '@kiln/api';
import { promiseClient } from '@kiln/api/client';
import { withBearerToken } from '@kiln/api/auth/bearer';
import { makeCa, makeCert } from '@kiln/api/tls-testing';
import { execute, REPO_ROOT, sdkTools, startKilnProcess, type KilnProcess } from './helpers/kiln-process';

const ONNX = path.join(REPO_ROOT, 'test', 'fixtures', 'third-party', 'hydrosphere', 'onnx_mnist', 'mnist.onnx');
const ADMIN = `kiln_${'b7'.repeat(20)}`;
const SERVICE = `service-${'q3'.repeat(20)}`;


describe('SDKs and grpcurl with a CA and a token, against Kiln serving TLS with authentication on', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-sdk-auth-'));
  const ca = makeCa(dir, 'ca');
  const service = makeCert(dir, ca, 'service', 'kiln-service');
  const tls: ClientTlsSettings = { ca: ca.cert };
  let kiln: KilnProcess;
  let admin: RegistryClient;
  let reader: string;
  const model = `sdkauth-${Date.now().toString(36)}`;

  before(async () => {
    kiln = await startKilnProcess({
      env: { KILN_TLS_CERT: service.cert, KILN_TLS_KEY: service.key, KILN_TLS_CA: ca.cert, KILN_ADMIN_TOKEN: ADMIN, KILN_SERVICE_TOKEN: SERVICE },
      tls,
    });
    admin = registryClient(kiln.registry, { ...withBearerToken(ADMIN), tls });
    const created = await promiseClient(admin).CreateToken({ owner: 'sdk-reader', bindings: [{ namespace: '*', role: 'ROLE_READER' }] });
    reader = created.secret;
  });
  after(async () => {
    admin?.close();
    await kiln?.stop();
  });

  it('the Python SDK with ca and token uploads and gets; without a token or with a wrong one raises Unauthenticated; a reader deleting raises PermissionDenied', async () => {
    const { python } = await sdkTools();
    const script = [
      'import sys',
      'from kiln_sdk import Client',
      'from kiln_sdk.errors import PermissionDenied, Unauthenticated',
      'address, ca, admin, reader, model, onnx = sys.argv[1:]',
      'with Client(address, ca=ca, token=admin, timeout=10) as c:',
      '    print(c.upload(onnx, model).version)',
      'with Client(address, ca=ca, token=reader, timeout=10) as c:',
      '    print(c.get(model, 1).model)',
      '    try:',
      '        c.delete(model, 1)',
      '    except PermissionDenied as e:',
      '        print("denied:", e.message)',
      'for token in (None, "kiln_" + "x" * 40):',
      '    try:',
      '        with Client(address, ca=ca, token=token, timeout=10) as c:',
      '            c.get(model, 1)',
      '    except Unauthenticated as e:',
      '        print("unauthenticated:", e.message)',
    ].join('\n');
    const run = await execute(python, ['-c', script, kiln.registry, ca.cert, ADMIN, reader, model, ONNX],
      { ...process.env, PYTHONPATH: path.join(REPO_ROOT, 'sdk/python'), PYTHONDONTWRITEBYTECODE: '1' });
    assert.equal(run.code, 0, `${run.stderr}\n--- kiln output ---\n${kiln.output().slice(-3000)}`);
    const lines = run.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['1', model]);
    assert.match(lines[2], /^denied: .*maintainer/);
    assert.equal(lines.length, 5, run.stdout);
    assert.match(lines[3], /^unauthenticated: /);
    assert.match(lines[4], /^unauthenticated: /);
  });

  it('the Go example program with -ca and -token uploads and follows the build to RELEASED; without a token it fails Unauthenticated, a reader PermissionDenied', async () => {
    const { go } = await sdkTools();
    const env = { ...process.env, GOTOOLCHAIN: 'auto', GOFLAGS: '-mod=readonly' };
    const goDir = path.join(REPO_ROOT, 'sdk/go');
    const example = (...args: string[]) => execute(go, ['run', './cmd/kiln-example', '-addr', kiln.registry, '-ca', ca.cert, '-name', `${model}-go`, ...args, ONNX],
      env, goDir, 10 * 60_000);
    const withToken = await example('-token', ADMIN);
    assert.equal(withToken.code, 0, `${withToken.stderr}\n--- kiln output ---\n${kiln.output().slice(-3000)}`);
    assert.match(withToken.stdout, /MODEL_VERSION_STATUS_RELEASED/);
    const without = await example();
    assert.notEqual(without.code, 0);
    assert.match(without.stderr, /kiln said Unauthenticated: /);
    const fromEnv = await execute(go, ['run', './cmd/kiln-example', '-addr', kiln.registry, '-ca', ca.cert, '-name', `${model}-go`, ONNX],
      { ...env, KILN_TOKEN: reader }, goDir, 10 * 60_000);
    assert.notEqual(fromEnv.code, 0);
    assert.match(fromEnv.stderr, /kiln said PermissionDenied: .*writer/);
  });

  it('grpcurl with -cacert and an authorization header gets a version; without the header it is refused Unauthenticated', async () => {
    const { grpcurl } = await sdkTools();
    assert.ok(grpcurl, 'no grpcurl: scripts/sdk-env should have built one');
    const get = (...args: string[]) => execute(grpcurl, ['-cacert', ca.cert, ...args, '-d', JSON.stringify({ model, version: '1' }),
      kiln.registry, 'kiln.v1.Registry/GetModelVersion']);
    const ok = await get('-H', `authorization: Bearer ${reader}`);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).model, model);
    const refused = await get();
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Code: Unauthenticated/);
  });
});
