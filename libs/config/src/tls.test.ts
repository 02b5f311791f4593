// The TLS settings: a certificate comes with its key, mTLS needs a server certificate, and the services trust
// KILN_TLS_CA, else the client CA, else the system's roots, presenting their own certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadConfig } from './index';

test('without KILN_TLS_* every server and service call is plaintext', () => {
  assert.deepEqual(loadConfig({}).tls, { server: undefined, client: undefined });
});

test('a certificate and key serve TLS; a client CA makes it mTLS and is what the services trust by default', () => {
  const tls = loadConfig({ KILN_TLS_CERT: 'tls.crt', KILN_TLS_KEY: 'tls.key', KILN_TLS_CLIENT_CA: 'ca.crt', KILN_TLS_RELOAD_SECONDS: '5' }).tls;
  const file = (f: string) => path.resolve(f);
  assert.deepEqual(tls.server, { cert: file('tls.crt'), key: file('tls.key'), clientCa: file('ca.crt'), reloadMs: 5000 });
  assert.deepEqual(tls.client, { ca: file('ca.crt'), cert: file('tls.crt'), key: file('tls.key'), reloadMs: 5000 });
});

test('KILN_TLS_CA is what the services trust; without it and a client CA, the system roots (ca unset)', () => {
  const files = { KILN_TLS_CERT: 'tls.crt', KILN_TLS_KEY: 'tls.key' };
  assert.equal(loadConfig({ ...files, KILN_TLS_CLIENT_CA: 'clients.crt', KILN_TLS_CA: 'servers.crt' }).tls.client?.ca, path.resolve('servers.crt'));
  assert.equal(loadConfig(files).tls.client?.ca, undefined);
  assert.equal(loadConfig(files).tls.server?.clientCa, undefined);
  assert.deepEqual(loadConfig({ KILN_TLS_CA: 'servers.crt' }).tls, { server: undefined, client: { ca: path.resolve('servers.crt'), cert: undefined, key: undefined, reloadMs: 60_000 } });
});

test('a certificate without its key, a key without its certificate, or mTLS without a certificate is refused', () => {
  assert.throws(() => loadConfig({ KILN_TLS_CERT: 'tls.crt' }), /KILN_TLS_CERT and KILN_TLS_KEY are set together/);
  assert.throws(() => loadConfig({ KILN_TLS_KEY: 'tls.key' }), /KILN_TLS_CERT and KILN_TLS_KEY are set together/);
  assert.throws(() => loadConfig({ KILN_TLS_CLIENT_CA: 'ca.crt' }), /KILN_TLS_CLIENT_CA \(mTLS\) needs KILN_TLS_CERT/);
});
