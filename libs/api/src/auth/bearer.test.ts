// The authorization header's parsing: every malformed shape is UNAUTHENTICATED saying what, never a crash.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { KilnError } from '@kiln/errors';
import { bearerToken, MAX_TOKEN_BYTES } from './bearer';

const metadataWith = (...values: Array<string | Buffer>) => {
  const m = new grpc.Metadata();
  // Metadata.add validates values as a client would; the server sees whatever came off the wire.
  (m as unknown as { internalRepr: Map<string, unknown[]> }).internalRepr.set('authorization', values);
  return m;
};

const refused = (m: grpc.Metadata, reason: RegExp) =>
  assert.throws(() => bearerToken(m), (err: unknown) => err instanceof KilnError && err.code === 'UNAUTHENTICATED' && reason.test(err.message));

test('a Bearer token is read; no header is no token', () => {
  assert.equal(bearerToken(metadataWith('Bearer kiln_abc-DEF_123')), 'kiln_abc-DEF_123');
  assert.equal(bearerToken(metadataWith('bearer   a.b.c')), 'a.b.c');
  assert.equal(bearerToken(new grpc.Metadata()), undefined);
});

test('malformed headers are UNAUTHENTICATED, saying which way', () => {
  refused(metadataWith(''), /not a Bearer token/);
  refused(metadataWith('Bearer'), /empty/);
  refused(metadataWith('Bearer '), /empty/);
  refused(metadataWith('Basic dXNlcjpwYXNz'), /not a Bearer token/);
  refused(metadataWith('Bearer a b'), /characters/);
  refused(metadataWith('Bearer é'), /characters/);
  refused(metadataWith(`Bearer ${'a'.repeat(MAX_TOKEN_BYTES + 1)}`), /longer than/);
  refused(metadataWith(Buffer.from([0, 1, 2])), /binary/);
  refused(metadataWith('Bearer a', 'Bearer b'), /2 values/);
});

test('fuzzed headers: never anything but a token or UNAUTHENTICATED', () => {
  for (let i = 0; i < 5000; i++) {
    const bytes = randomBytes(Math.floor(Math.random() * 64));
    const value = Math.random() < 0.5 ? `Bearer ${bytes.toString('latin1')}` : bytes.toString('latin1');
    try {
      const token = bearerToken(metadataWith(value));
      assert.ok(token === undefined || /^[A-Za-z0-9\-._~+/]+=*$/.test(token));
    } catch (err) {
      assert.ok(err instanceof KilnError && err.code === 'UNAUTHENTICATED', String(err));
    }
  }
});
