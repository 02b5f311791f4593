// Kiln as a real process serving mTLS on every service, with certificates made by openssl: an upload goes end to end
// (registry → inference → builder → registry, each call over mTLS) to a released image; every server refuses
// plaintext and clients without a certificate; the CLI, grpcurl and the Python and Go SDKs connect with a CA and a
// client certificate; a rotated certificate is served without a restart, and the services keep calling one another.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, renameSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builderClient, grpc, registryClient, type ClientTlsSettings, type RegistryClient } from '@kiln/api';
import { withBearerToken } from '@kiln/api/auth/bearer';
import { promiseClient } from '@kiln/api/client';
import { makeCa, makeCert, presentedCommonName, type PemPair } from '@kiln/api/tls-testing';
import { uploadStream, watchAll } from './helpers/grpc';
import { execute, healthCheck, REPO_ROOT, sdkTools, startKilnProcess, type KilnProcess } from './helpers/kiln-process';

const ONNX = path.join(REPO_ROOT, 'test', 'fixtures', 'third-party', 'hydrosphere', 'onnx_mnist', 'mnist.onnx');
const kilnBin = path.join(REPO_ROOT, 'cli/bin/kiln');



describe('Kiln serving mTLS on every service', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-tls-e2e-'));
  const ca = makeCa(dir, 'ca');
  const service: PemPair = makeCert(dir, ca, 'service', 'kiln-service-1');
  const alice = makeCert(dir, ca, 'alice', 'alice');
  const trustOnly: ClientTlsSettings = { ca: ca.cert };
  const withCert: ClientTlsSettings = { ca: ca.cert, ...alice };
  let kiln: KilnProcess;
  let client: RegistryClient;
  const model = `tls-${Date.now().toString(36)}`;

  before(async () => {
    kiln = await startKilnProcess({
      env: { KILN_TLS_CERT: service.cert, KILN_TLS_KEY: service.key, KILN_TLS_CLIENT_CA: ca.cert, KILN_TLS_RELOAD_SECONDS: '1' },
      tls: withCert,
    });
    client = registryClient(kiln.registry, { tls: withCert });
  });
  after(async () => {
    client?.close();
    await kiln?.stop();
  });

  const servers = () => [[kiln.registry, 'kiln.v1.Registry'], [kiln.inference, 'kiln.v1.Inference'], [kiln.builder, 'kiln.v1.Builder']] as const;

  it('takes an upload over mTLS to a released version: inference, the builder and the registry call each other over mTLS', async () => {
    const v = await uploadStream(client, { model, format: 'ARCHIVE_FORMAT_FILE', fileName: 'mnist.onnx' }, await readFile(ONNX));
    assert.equal(v.contract?.source, 'onnx', 'the registry reached inference');
    const events = await watchAll(client, model, Number(v.version));
    const last = events.filter((e) => e.version).at(-1)!.version!;
    assert.equal(last.status, 'MODEL_VERSION_STATUS_RELEASED', `the build failed:\n${kiln.output().slice(-3000)}`);
    assert.match(last.imageDigest, /^sha256:/);
  });

  it('every server refuses plaintext and a TLS client without a certificate, and answers one with a certificate', async () => {
    for (const [address, name] of servers()) {
      await assert.rejects(healthCheck(address, name), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE, `${name} took plaintext`);
      await assert.rejects(healthCheck(address, name, 2000, trustOnly), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE, `${name} took a client without a certificate`);
      assert.equal(await healthCheck(address, name, 2000, withCert), 'SERVING');
    }
  });

  it('the kiln CLI connects with --ca, --cert and --key (or KILN_CA, KILN_CERT, KILN_KEY), and without a certificate fails UNAVAILABLE (exit 7)', async () => {
    const env = { ...process.env, KILN_ADDRESS: kiln.registry };
    const flags = await execute(kilnBin, ['--ca', ca.cert, '--cert', alice.cert, '--key', alice.key, 'get', `${model}:1`, '--json'], env);
    assert.equal(flags.code, 0, flags.stderr);
    assert.equal(JSON.parse(flags.stdout).model, model);
    const vars = await execute(kilnBin, ['list', '--json'], { ...env, KILN_CA: ca.cert, KILN_CERT: alice.cert, KILN_KEY: alice.key });
    assert.equal(vars.code, 0, vars.stderr);
    assert.match(vars.stdout, new RegExp(model));
    const noCert = await execute(kilnBin, ['--ca', ca.cert, 'get', `${model}:1`], env);
    assert.equal(noCert.code, 7, `UNAVAILABLE's exit code: ${noCert.stderr}`);
    const plaintext = await execute(kilnBin, ['get', `${model}:1`], env);
    assert.equal(plaintext.code, 7, plaintext.stderr);
    const keyless = await execute(kilnBin, ['--ca', ca.cert, '--cert', alice.cert, 'get', `${model}:1`], env);
    assert.equal(keyless.code, 2, `a usage error: ${keyless.stderr}`);
    assert.match(keyless.stderr, /--cert and --key go together/);
  });

  it('grpcurl connects with -cacert, -cert and -key', async () => {
    const { grpcurl } = await sdkTools();
    assert.ok(grpcurl, 'no grpcurl: scripts/sdk-env should have built one');
    const run = await execute(grpcurl, ['-cacert', ca.cert, '-cert', alice.cert, '-key', alice.key, '-d', JSON.stringify({ model, version: '1' }),
      kiln.registry, 'kiln.v1.Registry/GetModelVersion']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).status, 'MODEL_VERSION_STATUS_RELEASED');
  });

  it('the Python SDK connects with ca, cert and key, and without a certificate raises Unavailable', async () => {
    const { python } = await sdkTools();
    const script = [
      'import sys',
      'from kiln_sdk import Client',
      'from kiln_sdk.errors import Unavailable',
      'address, ca, cert, key, model = sys.argv[1:]',
      'with Client(address, ca=ca, cert=cert, key=key, timeout=10) as c:',
      '    print(c.get(model, 1).model)',
      'try:',
      '    with Client(address, ca=ca, timeout=5) as c:',
      '        c.get(model, 1)',
      'except Unavailable:',
      '    print("refused")',
    ].join('\n');
    const run = await execute(python, ['-c', script, kiln.registry, ca.cert, alice.cert, alice.key, model],
      { ...process.env, PYTHONPATH: path.join(REPO_ROOT, 'sdk/python'), PYTHONDONTWRITEBYTECODE: '1' });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n'), [model, 'refused']);
  });

  it('the Go example program uploads over mTLS with -ca, -cert and -key, follows the build to RELEASED', async () => {
    const { go } = await sdkTools();
    const run = await execute(go, ['run', './cmd/kiln-example', '-addr', kiln.registry, '-ca', ca.cert, '-cert', alice.cert, '-key', alice.key,
      '-name', `${model}-go`, ONNX], { ...process.env, GOTOOLCHAIN: 'auto', GOFLAGS: '-mod=readonly' }, path.join(REPO_ROOT, 'sdk/go'), 10 * 60_000);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /MODEL_VERSION_STATUS_RELEASED/);
  });

  it('a rotated certificate is served from the next handshake on, without a restart, and the services keep calling one another', async () => {
    assert.equal(await presentedCommonName(kiln.registry, ca.cert), 'kiln-service-1');
    const next = makeCert(dir, ca, 'service-2', 'kiln-service-2');
    copyFileSync(next.key, `${service.key}.new`);
    copyFileSync(next.cert, `${service.cert}.new`);
    renameSync(`${service.key}.new`, service.key);
    renameSync(`${service.cert}.new`, service.cert);
    const deadline = Date.now() + 10_000;
    for (const [address] of servers()) {
      while ((await presentedCommonName(address, ca.cert)) !== 'kiln-service-2') {
        assert.ok(Date.now() < deadline, `${address} still presents the old certificate`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    // A new client's channel, and the services' calls for another upload and build.
    const fresh = registryClient(kiln.registry, { tls: withCert });
    try {
      const v = await uploadStream(fresh, { model, format: 'ARCHIVE_FORMAT_FILE', fileName: 'mnist.onnx' }, await readFile(ONNX));
      const last = (await watchAll(fresh, model, Number(v.version))).filter((e) => e.version).at(-1)!.version!;
      assert.equal(last.status, 'MODEL_VERSION_STATUS_RELEASED');
    } finally {
      fresh.close();
    }
  });
});

describe('Kiln services known to one another by their mTLS certificates (no service token)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-tls-auth-'));
  const ca = makeCa(dir, 'ca');
  const service = makeCert(dir, ca, 'service', 'kiln-service');
  const alice = makeCert(dir, ca, 'alice', 'alice');
  const withCert: ClientTlsSettings = { ca: ca.cert, ...alice };
  const ADMIN = `kiln_${'c3'.repeat(20)}`;
  let kiln: KilnProcess;

  before(async () => {
    kiln = await startKilnProcess({
      env: {
        KILN_TLS_CERT: service.cert, KILN_TLS_KEY: service.key, KILN_TLS_CLIENT_CA: ca.cert,
        KILN_AUTH: 'on', KILN_ADMIN_TOKEN: ADMIN, KILN_TLS_SERVICE_NAMES: 'kiln-service',
      },
      tls: withCert,
    });
  });
  after(() => kiln?.stop());

  it('builds an upload with every service-to-service call identified by its certificate; a user\'s certificate is no service\'s', async () => {
    const admin = registryClient(kiln.registry, { ...withBearerToken(ADMIN), tls: withCert });
    const anonymous = registryClient(kiln.registry, { tls: withCert });
    const builder = builderClient(kiln.builder, { ...withBearerToken(ADMIN), tls: withCert });
    try {
      const model = `tls-auth-${Date.now().toString(36)}`;
      const v = await uploadStream(admin, { model, format: 'ARCHIVE_FORMAT_FILE', fileName: 'mnist.onnx' }, await readFile(ONNX));
      assert.equal(v.contract?.source, 'onnx', 'the registry reached inference by its certificate');
      const last = (await watchAll(admin, model, Number(v.version))).filter((e) => e.version).at(-1)!.version!;
      assert.equal(last.status, 'MODEL_VERSION_STATUS_RELEASED', `the build failed:\n${kiln.output().slice(-3000)}`);
      // alice's certificate passes mTLS but names no service: the registry wants a token, the builder refuses her.
      await assert.rejects(promiseClient(anonymous).GetModelVersion({ model, version: v.version }), (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED);
      await assert.rejects(promiseClient(builder).BuildModelVersion({ model, version: v.version })[Symbol.asyncIterator]().next(),
        (e: grpc.ServiceError) => e.code === grpc.status.PERMISSION_DENIED);
    } finally {
      for (const c of [admin, anonymous, builder]) c.close();
    }
  });
});
