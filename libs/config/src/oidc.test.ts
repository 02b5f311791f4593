// The OIDC settings: off when none is set, on with all three, and a partial or insecure setting refused at load,
// naming what is missing or wrong.
import assert from 'node:assert/strict';
import test from 'node:test';
import { loadConfig } from './index';

const OIDC = { KILN_OIDC_ISSUER: 'https://idp.example.com', KILN_OIDC_AUDIENCE: 'kiln', KILN_OIDC_JWKS_URL: 'https://idp.example.com/jwks' };

test('OIDC is off when none of its settings is given, on with the three (the claim mapping empty by default)', () => {
  assert.equal(loadConfig({}).oidc, undefined);
  assert.deepEqual(loadConfig(OIDC).oidc, { issuer: 'https://idp.example.com', audience: 'kiln', jwksUrl: 'https://idp.example.com/jwks', roles: '' });
  assert.equal(loadConfig({ ...OIDC, KILN_OIDC_ROLES: 'groups:a=reader@*' }).oidc?.roles, 'groups:a=reader@*');
});

test('some OIDC settings without the others are refused, naming those missing', () => {
  assert.throws(() => loadConfig({ KILN_OIDC_ISSUER: OIDC.KILN_OIDC_ISSUER }), {
    message: 'invalid configuration: KILN_OIDC_AUDIENCE, KILN_OIDC_JWKS_URL not set: OIDC takes its issuer, audience and JWKS URL together',
  });
  assert.throws(() => loadConfig({ ...OIDC, KILN_OIDC_AUDIENCE: '' }), /^Error: invalid configuration: KILN_OIDC_AUDIENCE not set/);
  assert.throws(() => loadConfig({ KILN_OIDC_ROLES: 'groups:a=reader@*' }), /KILN_OIDC_ISSUER, KILN_OIDC_AUDIENCE, KILN_OIDC_JWKS_URL not set/);
});

test('the JWKS is fetched over https, or plain http to a loopback host only', () => {
  for (const url of ['http://127.0.0.1:8080/jwks', 'http://localhost/jwks', 'http://[::1]:9000/certs']) {
    assert.equal(loadConfig({ ...OIDC, KILN_OIDC_JWKS_URL: url }).oidc?.jwksUrl, url);
  }
  for (const url of ['http://idp.example.com/jwks', 'http://127.0.0.1.example.com/jwks', 'http://10.0.0.1/jwks']) {
    assert.throws(() => loadConfig({ ...OIDC, KILN_OIDC_JWKS_URL: url }), {
      message: 'invalid configuration: KILN_OIDC_JWKS_URL: use https (plain http only to a loopback host)',
    }, url);
  }
  for (const url of ['idp.example.com/jwks', 'file:///etc/jwks.json']) {
    assert.throws(() => loadConfig({ ...OIDC, KILN_OIDC_JWKS_URL: url }), { message: 'invalid configuration: KILN_OIDC_JWKS_URL: Invalid URL' }, url);
  }
});
