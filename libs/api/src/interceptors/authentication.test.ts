// The authenticator's cache: a valid token is verified once per cache period however many calls use it; failures
// and unknown tokens are asked again every time; the first verifier that knows a token names the caller.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { KilnError, unauthenticated } from '@kiln/errors';
import type { BearerVerifier, Caller } from '../context';
import { authentication } from './authentication';
import { serviceCertificateCaller } from '../auth/service-token';
import type { PeerCertificate } from '../tls';

const bearer = (token: string) => {
  const m = new grpc.Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
};

function countingVerifier(answers: Record<string, Caller | 'bad'>): BearerVerifier & { calls: number } {
  const v = {
    calls: 0,
    async verify(token: string): Promise<Caller | undefined> {
      v.calls++;
      const a = answers[token];
      if (a === 'bad') throw unauthenticated('revoked token: t');
      return a;
    },
  };
  return v;
}

const alice: Caller = { kind: 'token', peer: 'first', tokenId: 't', owner: 'alice', bindings: [] };

test('a valid token is verified once per cache period, and again after it; the caller carries each call\'s peer', async () => {
  const v = countingVerifier({ good: alice });
  const auth = authentication([v], { cacheMs: 100 });
  const callers = await Promise.all(Array.from({ length: 50 }, (_, i) => auth.authenticate(bearer('good'), `peer-${i}`)));
  assert.equal(v.calls, 1);
  assert.deepEqual(callers.map((c) => c.peer).slice(0, 2), ['peer-0', 'peer-1']);
  await new Promise((r) => setTimeout(r, 150));
  await auth.authenticate(bearer('good'), 'p');
  assert.equal(v.calls, 2);
});

test('failures and unknown tokens are not cached; the first verifier that knows a token wins', async () => {
  const first = countingVerifier({ bad: 'bad' });
  const second = countingVerifier({ other: alice });
  const auth = authentication([first, second]);
  for (let i = 0; i < 3; i++) {
    await assert.rejects(auth.authenticate(bearer('bad'), 'p'), (e: unknown) => e instanceof KilnError && /revoked/.test(e.message));
    await assert.rejects(auth.authenticate(bearer('nobody'), 'p'), (e: unknown) => e instanceof KilnError && e.code === 'UNAUTHENTICATED' && /unknown token/.test(e.message));
  }
  assert.equal(first.calls, 6);
  assert.equal((await auth.authenticate(bearer('other'), 'p')).kind, 'token');
  await assert.rejects(auth.authenticate(new grpc.Metadata(), 'p'), /missing token/);
});

test('on a services-only server, no token or an unknown one is an anonymous caller (for authorization to refuse)', async () => {
  const auth = authentication([countingVerifier({})], { unknownIsAnonymous: true });
  assert.equal((await auth.authenticate(new grpc.Metadata(), 'p')).kind, 'anonymous');
  assert.equal((await auth.authenticate(bearer('x'), 'p')).kind, 'anonymous');
});

test('with no token, a verified certificate naming a Kiln service makes the caller that service; any other is unknown; a token decides over a certificate', async () => {
  const certificate = (commonName: string, dnsNames: string[] = []): PeerCertificate => ({
    commonName, dnsNames, uris: [], ipAddresses: [], fingerprint256: 'AB:CD', validTo: new Date(Date.now() + 3600_000),
  });
  const auth = authentication([countingVerifier({ good: alice })], { certificateCaller: serviceCertificateCaller(['kiln-registry', 'registry.kiln.internal']) });
  assert.deepEqual(await auth.authenticate(new grpc.Metadata(), 'p', certificate('kiln-registry')), { kind: 'service', peer: 'p', service: 'kiln-registry' });
  assert.deepEqual(await auth.authenticate(new grpc.Metadata(), 'p', certificate('x', ['registry.kiln.internal'])), { kind: 'service', peer: 'p', service: 'registry.kiln.internal' });
  await assert.rejects(auth.authenticate(new grpc.Metadata(), 'p', certificate('alice')), (e: KilnError) => e.code === 'UNAUTHENTICATED' && /missing token/.test(e.message));
  await assert.rejects(auth.authenticate(new grpc.Metadata(), 'p'), (e: KilnError) => e.code === 'UNAUTHENTICATED');
  assert.equal((await auth.authenticate(bearer('good'), 'p', certificate('kiln-registry'))).kind, 'token');
  // Without names configured, no certificate is a service's.
  await assert.rejects(authentication([]).authenticate(new grpc.Metadata(), 'p', certificate('kiln-registry')), (e: KilnError) => e.code === 'UNAUTHENTICATED');
});

test('a token past its cache period is re-checked in the background while calls go on; once the re-check refuses it, it is refused', async () => {
  const answers: Record<string, Caller | 'bad'> = { good: alice };
  let release!: () => void;
  let slow = false;
  const v = countingVerifier(answers);
  const verifier: BearerVerifier = {
    async verify(token, peer) {
      if (slow) await new Promise<void>((r) => (release = r));
      return v.verify(token, peer);
    },
  };
  const auth = authentication([verifier], { cacheMs: 50 });
  await auth.authenticate(bearer('good'), 'p');
  await new Promise((r) => setTimeout(r, 70));
  slow = true;
  answers.good = 'bad'; // revoked meanwhile
  // Past the period: served at once from the old verification, one re-check started for all of these calls.
  const during = await Promise.all(Array.from({ length: 20 }, () => auth.authenticate(bearer('good'), 'p')));
  assert.equal(during.length, 20);
  release();
  await new Promise((r) => setTimeout(r, 10));
  slow = false;
  await assert.rejects(auth.authenticate(bearer('good'), 'p'), /revoked/);
  assert.equal(v.calls, 3, 'the first check, one background re-check, and the refused call\'s own');
  // Never served past two periods without a verification that succeeded.
  answers.good = alice;
  await auth.authenticate(bearer('good'), 'p');
  await new Promise((r) => setTimeout(r, 120));
  slow = true;
  const late = auth.authenticate(bearer('good'), 'p');
  let settled = false;
  void late.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, 'an entry older than two periods is gone: the call waits for its check');
  release();
  await late;
});
