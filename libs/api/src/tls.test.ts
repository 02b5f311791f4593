// TLS on a real Kiln server with certificates made by openssl: a client trusting the CA gets through, plaintext and
// other CAs do not; with a client CA a client without a certificate is refused and interceptors see the verified
// one; replaced files are served from the next handshake on, without a restart; unusable files fail the start.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { pino } from 'pino';
import { grpc, inferenceClient, kilnProto } from './index';
import { promiseClient } from './client';
import type { InferenceImplementation } from './handlers';
import { startServer, type Interceptor, type PeerCertificate, type ServerTlsSettings } from './server';
import { subjectAltNames, type ClientTlsSettings } from './tls';
import { makeCa, makeCert, presentedCommonName, type PemPair } from './tls-testing';

const silent = pino({ level: 'silent' });
const never = () => { throw new Error('not called'); };

const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-tls-'));
const ca = makeCa(dir, 'ca');
const server1 = makeCert(dir, ca, 'server1', 'kiln-server-1');
const client1 = makeCert(dir, ca, 'client1', 'kiln-registry', ['DNS:registry.kiln.internal', 'URI:spiffe://kiln/registry', 'IP:127.0.0.1']);
const otherCa = makeCa(dir, 'other-ca');
const stranger = makeCert(dir, otherCa, 'stranger', 'stranger');

/** An Inference server over TLS whose InferContract answers an empty response; `seen` has each call's peer
 * certificate as the interceptors saw it. */
async function tlsServer(t: test.TestContext, tls: ServerTlsSettings) {
  const seen: Array<PeerCertificate | undefined> = [];
  const peek: Interceptor = (next) => (call) => {
    seen.push(call.context.peerCertificate);
    return next(call);
  };
  const implementation = { InferContract: async () => ({}), InferContractFromUpload: never } as unknown as InferenceImplementation;
  const server = await startServer([{ name: 'kiln.v1.Inference', definition: kilnProto().kiln.v1.Inference.service, implementation }],
    '127.0.0.1:0', silent, { tls, interceptors: [peek] });
  t.after(() => server.shutdown(1000));
  return { server, seen };
}

/** One InferContract call over a new channel: resolves, or rejects with the status. */
async function callOnce(address: string, tls: ClientTlsSettings | undefined): Promise<void> {
  const raw = inferenceClient(address, { tls });
  try {
    await promiseClient(raw).InferContract({ path: '/x' }, { deadline: Date.now() + 3000 });
  } finally {
    raw.close();
  }
}

const unavailable = (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE;


test('a TLS server answers a client trusting its CA, and refuses plaintext and a client trusting another CA', async (t) => {
  const { server, seen } = await tlsServer(t, { ...server1, reloadMs: 60_000 });
  await callOnce(server.address, { ca: ca.cert });
  assert.deepEqual(seen, [undefined], 'no client certificate was asked for');
  await assert.rejects(callOnce(server.address, undefined), unavailable);
  await assert.rejects(callOnce(server.address, { ca: otherCa.cert }), unavailable);
  assert.equal(seen.length, 1, 'the refused calls never reached the interceptors');
});

test('with a client CA (mTLS) a client without a certificate, or with one from another CA, is refused; interceptors see the verified certificate', async (t) => {
  const { server, seen } = await tlsServer(t, { ...server1, clientCa: ca.cert, reloadMs: 60_000 });
  await assert.rejects(callOnce(server.address, { ca: ca.cert }), unavailable);
  await assert.rejects(callOnce(server.address, { ca: ca.cert, ...stranger }), unavailable);
  await assert.rejects(callOnce(server.address, undefined), unavailable);
  assert.equal(seen.length, 0);
  await callOnce(server.address, { ca: ca.cert, ...client1 });
  assert.equal(seen.length, 1);
  const peer = seen[0]!;
  assert.equal(peer.commonName, 'kiln-registry');
  assert.deepEqual(peer.dnsNames, ['registry.kiln.internal']);
  assert.deepEqual(peer.uris, ['spiffe://kiln/registry']);
  assert.deepEqual(peer.ipAddresses, ['127.0.0.1']);
  assert.match(peer.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.ok(peer.validTo.getTime() > Date.now());
});

test('replaced certificate files are served from the next handshake on, without a restart; open channels keep working', async (t) => {
  const live: PemPair = { cert: path.join(dir, 'live.crt'), key: path.join(dir, 'live.key') };
  copyFileSync(server1.cert, live.cert);
  copyFileSync(server1.key, live.key);
  const { server } = await tlsServer(t, { ...live, reloadMs: 200 });
  assert.equal(await presentedCommonName(server.address, ca.cert), 'kiln-server-1');
  const open = inferenceClient(server.address, { tls: { ca: ca.cert } });
  t.after(() => open.close());
  await promiseClient(open).InferContract({ path: '/x' });

  // Rotated as cert-manager or a kubelet does: new files renamed over the old ones.
  const server2 = makeCert(dir, ca, 'server2', 'kiln-server-2');
  copyFileSync(server2.key, `${live.key}.new`);
  copyFileSync(server2.cert, `${live.cert}.new`);
  renameSync(`${live.key}.new`, live.key);
  renameSync(`${live.cert}.new`, live.cert);
  const deadline = Date.now() + 5000;
  while ((await presentedCommonName(server.address, ca.cert)) !== 'kiln-server-2') {
    assert.ok(Date.now() < deadline, 'the new certificate was not served within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await callOnce(server.address, { ca: ca.cert });
  await promiseClient(open).InferContract({ path: '/x' });
});

test('files a server cannot use fail its start, naming them', async () => {
  await assert.rejects(startServer([], '127.0.0.1:0', silent, { tls: { cert: path.join(dir, 'missing.crt'), key: server1.key, reloadMs: 1000 } }),
    /cannot read .*missing\.crt/);
  await assert.rejects(startServer([], '127.0.0.1:0', silent, { tls: { cert: server1.cert, key: client1.key, reloadMs: 1000 } }),
    /server1\.crt.*cannot be used/);
});

test('subjectAltName text: kinds and values, JSON-quoted values with commas', () => {
  assert.deepEqual(subjectAltNames('DNS:a.example, IP Address:10.0.0.1, URI:"spiffe://x/a,b"'), [
    { kind: 'DNS', value: 'a.example' },
    { kind: 'IP Address', value: '10.0.0.1' },
    { kind: 'URI', value: 'spiffe://x/a,b' },
  ]);
  assert.deepEqual(subjectAltNames(''), []);
});
