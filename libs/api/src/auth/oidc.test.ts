// The OIDC verifier against a JWKS this test serves on loopback, with tokens signed by its keys (jose, real
// crypto): who a valid token is and which roles its claims give; expired, wrong audience or issuer, altered, unsigned
// or of an unknown key refused UNAUTHENTICATED; a rotated JWKS fetched again; a token that is no JWT left to others;
// verified tokens kept until shortly before they expire.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { KilnError } from '@kiln/errors';
import { oidcVerifier, type OidcOptions } from './oidc';

const ISSUER = 'https://idp.example.test/realms/kiln';
const AUDIENCE = 'kiln';
const ROLES = 'groups:ml-platform=admin@*,groups:team-fraud=writer@fraud';
const PEER = 'ipv4:127.0.0.1:40000';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string, alg = 'ES256'): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A provider: a JWKS served over HTTP on loopback (its keys replaceable, its fetches counted), and a signer. */
async function provider(t: test.TestContext) {
  const state = { keys: [await signingKey('key-1')], fetches: 0, status: 200 };
  const server = createServer((req, res) => {
    state.fetches += 1;
    res.writeHead(state.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: state.keys.map((k) => k.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  /** A token as the provider issues it (valid for an hour), claims and header changed by `edit`. */
  const sign = (claims: JWTPayload = {}, key = state.keys[0], edit: { expiresIn?: string | number; issuer?: string; audience?: string } = {}) =>
    new SignJWT({ groups: ['ml-platform', 'team-fraud'], ...claims })
      .setProtectedHeader({ alg: key.jwk.alg!, kid: key.kid, typ: 'JWT' })
      .setIssuer(edit.issuer ?? ISSUER)
      .setAudience(edit.audience ?? AUDIENCE)
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime(edit.expiresIn ?? '1h')
      .sign(key.privateKey);
  const verifier = (options?: OidcOptions, roles = ROLES) => oidcVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl, roles }, options)!;
  return { state, jwksUrl, sign, verifier };
}

/** Asserts that verifying `token` fails with `code`, its message matching `message`. */
async function refused(promise: Promise<unknown>, message: RegExp, code = 'UNAUTHENTICATED') {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof KilnError, `a KilnError, not ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

const seconds = (s: number) => Math.floor(Date.now() / 1000) + s;
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

test('a valid token is its subject, with the bindings its claims map to (a claim as an array or as a string)', async (t) => {
  const idp = await provider(t);
  const verifier = idp.verifier();
  assert.deepEqual(await verifier.verify(await idp.sign(), PEER), {
    kind: 'oidc',
    peer: PEER,
    issuer: ISSUER,
    subject: 'alice',
    bindings: [{ namespace: '*', role: 'admin' }, { namespace: 'fraud', role: 'writer' }],
  });
  const caller = await verifier.verify(await idp.sign({ groups: 'team-fraud' }), PEER);
  assert.deepEqual(caller && 'bindings' in caller && caller.bindings, [{ namespace: 'fraud', role: 'writer' }]);
});

test('a valid token whose claims map to no role is authenticated, with no binding', async (t) => {
  const idp = await provider(t);
  for (const groups of [['team-payments'], 'ml-platform-2', 42, { 'ml-platform': true }]) {
    const caller = await idp.verifier().verify(await idp.sign({ groups }), PEER);
    assert.equal(caller?.kind, 'oidc');
    assert.deepEqual(caller && 'bindings' in caller && caller.bindings, [], JSON.stringify(groups));
  }
});

test('an expired token is refused, saying when it expired; one expired within the clock tolerance (30 s) is not', async (t) => {
  const idp = await provider(t);
  const exp = seconds(-120);
  await refused(idp.verifier().verify(await idp.sign({}, undefined, { expiresIn: exp }), PEER), new RegExp(`expired at ${new Date(exp * 1000).toISOString()}`));
  assert.equal((await idp.verifier().verify(await idp.sign({}, undefined, { expiresIn: seconds(-10) }), PEER))?.kind, 'oidc');
});

test('a token for another audience is refused, naming both', async (t) => {
  const idp = await provider(t);
  await refused(idp.verifier().verify(await idp.sign({}, undefined, { audience: 'grafana' }), PEER), /audience "grafana", not "kiln"/);
});

test('a token from another issuer is refused, naming both', async (t) => {
  const idp = await provider(t);
  const token = await idp.sign({}, undefined, { issuer: 'https://evil.example.test' });
  await refused(idp.verifier().verify(token, PEER), /issued by "https:\/\/evil\.example\.test", not by the trusted issuer/);
});

test('a token without an expiry or without a subject is refused', async (t) => {
  const idp = await provider(t);
  const key = idp.state.keys[0];
  const noExp = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'ES256', kid: key.kid }).setIssuer(ISSUER).setAudience(AUDIENCE).sign(key.privateKey);
  await refused(idp.verifier().verify(noExp, PEER), /no "exp" claim/);
  const withSub = (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: key.kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('1h').sign(key.privateKey);
  await refused(idp.verifier().verify(await withSub({}), PEER), /no "sub" claim/);
  for (const sub of ['', 42]) await refused(idp.verifier().verify(await withSub({ sub } as JWTPayload), PEER), /"sub" claim is not a name/);
});

test('a token whose claims were altered after signing (more groups) is refused: its signature does not verify', async (t) => {
  const idp = await provider(t);
  const [header, , signature] = (await idp.sign({ groups: ['team-payments'] })).split('.');
  const forged = b64({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', exp: seconds(3600), groups: ['ml-platform'] });
  await refused(idp.verifier().verify(`${header}.${forged}.${signature}`, PEER), /signature does not verify/);
  // And a signature by a key of the same kid that is not the provider's.
  await refused(idp.verifier().verify(await idp.sign({}, await signingKey('key-1')), PEER), /signature does not verify/);
});

test('an unsigned token (alg none) and one signed with a shared secret (HS256) are refused', async (t) => {
  const idp = await provider(t);
  const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'alice', exp: seconds(3600), groups: ['ml-platform'] };
  await refused(idp.verifier().verify(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, PEER), /algorithm is not accepted/);
  await refused(idp.verifier().verify(`${b64({ alg: 'none', kid: 'key-1' })}.${b64(claims)}.`, PEER), /algorithm is not accepted/);
  const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'key-1' }).sign(new TextEncoder().encode(JSON.stringify(idp.state.keys[0].jwk)));
  await refused(idp.verifier().verify(hs, PEER), /algorithm is not accepted/);
});

test('a token that is not a JWT is left to other verifiers (undefined), without asking the provider', async (t) => {
  const idp = await provider(t);
  const verifier = idp.verifier();
  for (const token of ['', 'kiln_3q2ZkGk0uW7mXbq1', 'a.b.c', 'x'.repeat(100_000), '\u0000\uffff', `${b64({ typ: 'JWT' })}.${b64({})}.sig`, `${b64({ alg: 'ES256' })}.x`]) {
    assert.equal(await verifier.verify(token, PEER), undefined, JSON.stringify(token.slice(0, 40)));
  }
  assert.equal(idp.state.fetches, 0);
});

test('a token of an unknown kid: the JWKS is fetched again (it was rotated) and the token is valid', async (t) => {
  const idp = await provider(t);
  const verifier = idp.verifier({ jwksCooldownMs: 0 });
  assert.equal((await verifier.verify(await idp.sign(), PEER))?.kind, 'oidc');
  assert.equal(idp.state.fetches, 1);
  const rotated = await signingKey('key-2', 'RS256');
  idp.state.keys = [rotated];
  assert.equal((await verifier.verify(await idp.sign({}, rotated), PEER))?.kind, 'oidc');
  assert.equal(idp.state.fetches, 2);
  // A kid the provider does not have, after fetching again, is refused.
  await refused(verifier.verify(await idp.sign({}, await signingKey('key-3')), PEER), /signed with a key that the identity provider's JWKS \(http:\/\/127\.0\.0\.1:\d+\/jwks\) does not have/);
  assert.equal(idp.state.fetches, 3);
});

test('within the cooldown after a fetch, unknown kids are refused without fetching again (made-up kids cost nothing)', async (t) => {
  const idp = await provider(t);
  const verifier = idp.verifier();
  await verifier.verify(await idp.sign(), PEER);
  const strangers = await Promise.all([1, 2, 3].map((n) => signingKey(`made-up-${n}`)));
  for (const key of strangers) await refused(verifier.verify(await idp.sign({}, key), PEER), /does not have/);
  assert.equal(idp.state.fetches, 1);
});

test('a verified token is kept: not verified again while it is valid, even once its key left the JWKS', async (t) => {
  const idp = await provider(t);
  const verifier = idp.verifier({ jwksCooldownMs: 0 });
  const token = await idp.sign();
  await verifier.verify(token, PEER);
  // The key goes, and the verifier learns it (another token makes it fetch the JWKS again).
  const next = await signingKey('key-2');
  idp.state.keys = [next];
  await verifier.verify(await idp.sign({}, next), PEER);
  await refused(verifier.verify(await idp.sign({}, { ...next, kid: 'key-1' }), PEER), /does not have/);
  // The first token was not checked again: checking it would fail the same way.
  assert.deepEqual(await verifier.verify(token, 'ipv4:127.0.0.2:1'), {
    kind: 'oidc', peer: 'ipv4:127.0.0.2:1', issuer: ISSUER, subject: 'alice',
    bindings: [{ namespace: '*', role: 'admin' }, { namespace: 'fraud', role: 'writer' }],
  });
});

test('a kept token is verified again from shortly before its exp', async (t) => {
  const idp = await provider(t);
  const verifier = idp.verifier({ jwksCooldownMs: 0 });
  const exp = seconds(3);
  const soon = await idp.sign({}, undefined, { expiresIn: exp });
  await verifier.verify(soon, PEER);
  // Its key goes (and the verifier learns it): checking the token again would now fail.
  idp.state.keys = [await signingKey('key-2')];
  await refused(verifier.verify(await idp.sign({}, await signingKey('key-9')), PEER), /does not have/);
  assert.equal((await verifier.verify(soon, PEER))?.kind, 'oidc', 'kept');
  await sleep(exp * 1000 - 900 - Date.now());
  await refused(verifier.verify(soon, PEER), /does not have/);
});

test('the cache of verified tokens keeps at most its bound, the most recently used', async (t) => {
  const idp = await provider(t);
  const verifier = idp.verifier({ jwksCooldownMs: 0, maxCachedTokens: 2 });
  const [first, second, third] = await Promise.all(['bob', 'carol', 'dave'].map((sub) => idp.sign({ sub })));
  for (const token of [first, second, first, third]) await verifier.verify(token, PEER);
  idp.state.keys = [await signingKey('key-2')];
  await refused(verifier.verify(await idp.sign({}, await signingKey('key-9')), PEER), /does not have/);
  assert.equal((await verifier.verify(first, PEER))?.kind, 'oidc', 'used last but one: kept');
  assert.equal((await verifier.verify(third, PEER))?.kind, 'oidc', 'used last: kept');
  await refused(verifier.verify(second, PEER), /does not have/);
});

test('a JWKS that cannot be fetched is UNAVAILABLE (the provider, not the token), naming it', async (t) => {
  const idp = await provider(t);
  idp.state.status = 503;
  await refused(idp.verifier().verify(await idp.sign(), PEER), /identity provider's keys \(http:\/\/127\.0\.0\.1:\d+\/jwks\) could not be fetched.*try again later/, 'UNAVAILABLE');
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  const gone = oidcVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: `http://127.0.0.1:${port}/jwks`, roles: '' })!;
  await refused(gone.verify(await idp.sign(), PEER), /could not be fetched: connect ECONNREFUSED/, 'UNAVAILABLE');
});

test('the factory: no verifier without settings; a bad claim mapping stops it, naming the setting', async (t) => {
  const idp = await provider(t);
  assert.equal(oidcVerifier(undefined), undefined);
  assert.throws(() => idp.verifier({}, 'groups:ml-platform=root@*'), /^Error: invalid configuration: KILN_OIDC_ROLES: entry 1 \("groups:ml-platform=root@\*"\): role "root" is not one of reader, writer, maintainer, admin$/);
});
