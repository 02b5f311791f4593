// API tokens without a database: secrets, binding rules, the verifier's answers, and last uses written once a minute.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '@kiln/log';
import { KilnError } from '@kiln/errors';
import { ApiTokenVerifier, newSecret, secretDigest, validateBindings, type TokenRecord, type TokenStore } from './tokens';

const log = createLogger('tokens-test', 'silent');

function storeWith(records: Map<string, TokenRecord>, touches: Array<Map<string, Date>>): TokenStore {
  return {
    insertToken: async () => true,
    tokenByDigest: async (digest) => records.get(digest.toString('hex')),
    listTokens: async () => [...records.values()],
    revokeToken: async () => undefined,
    touchTokens: async (uses) => void touches.push(new Map(uses)),
  };
}

const record = (over: Partial<TokenRecord> = {}): TokenRecord => ({
  id: 'tok_1', owner: 'alice', bindings: [{ namespace: '*', role: 'reader' }], createTime: new Date(), expireTime: null, lastUseTime: null, revokeTime: null, ...over,
});

test('a secret is kiln_ and 256 random bits; its digest is its SHA-256', () => {
  const a = newSecret();
  assert.match(a, /^kiln_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, newSecret());
  assert.equal(secretDigest('x').toString('hex'), '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
});

test('bindings: a role per namespace, known roles only, `*` allowed', () => {
  assert.deepEqual(validateBindings([{ namespace: '*', role: 'ROLE_ADMIN' }, { namespace: 'fraud', role: 'ROLE_READER' }], 'b'),
    [{ namespace: '*', role: 'admin' }, { namespace: 'fraud', role: 'reader' }]);
  assert.throws(() => validateBindings([], 'b'), /at least one/);
  assert.throws(() => validateBindings([{ namespace: 'a', role: 'ROLE_UNSPECIFIED' }], 'b'), /unknown role/);
  assert.throws(() => validateBindings([{ namespace: 'a', role: 'ROLE_READER' }, { namespace: 'a', role: 'ROLE_ADMIN' }], 'b'), /bound twice/);
  assert.throws(() => validateBindings([{ namespace: 'Bad Name', role: 'ROLE_READER' }], 'b'), /not valid/);
});

test('the verifier: not its kind, unknown, revoked, expired, valid', async () => {
  const secrets = { valid: newSecret(), revoked: newSecret(), expired: newSecret() };
  const records = new Map([
    [secretDigest(secrets.valid).toString('hex'), record()],
    [secretDigest(secrets.revoked).toString('hex'), record({ id: 'tok_r', revokeTime: new Date() })],
    [secretDigest(secrets.expired).toString('hex'), record({ id: 'tok_e', expireTime: new Date(Date.now() - 1) })],
  ]);
  const verifier = new ApiTokenVerifier(storeWith(records, []), log);
  const reason = (secret: string, r: RegExp) => assert.rejects(verifier.verify(secret, 'p'), (e: unknown) => e instanceof KilnError && e.code === 'UNAUTHENTICATED' && r.test(e.message));
  try {
    assert.equal(await verifier.verify('eyJhbGciOi.x.y', 'p'), undefined);
    await reason(newSecret(), /unknown token/);
    await reason(secrets.revoked, /revoked token: tok_r/);
    await reason(secrets.expired, /expired token: tok_e/);
    assert.deepEqual(await verifier.verify(secrets.valid, 'p'), { kind: 'token', peer: 'p', tokenId: 'tok_1', owner: 'alice', bindings: [{ namespace: '*', role: 'reader' }] });
  } finally {
    await verifier.stop();
  }
});

test('last uses: one write per token per minute, however many calls', async () => {
  const secret = newSecret();
  const touches: Array<Map<string, Date>> = [];
  const verifier = new ApiTokenVerifier(storeWith(new Map([[secretDigest(secret).toString('hex'), record()]]), touches), log);
  for (let i = 0; i < 100; i++) await verifier.verify(secret, 'p');
  await verifier.flush();
  for (let i = 0; i < 100; i++) await verifier.verify(secret, 'p');
  await verifier.stop();
  assert.equal(touches.length, 1);
  assert.deepEqual([...touches[0].keys()], ['tok_1']);
});
