// Unit tests for reference parsing, WWW-Authenticate challenges and scope coverage (no server needed).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseReference, formatReference } from './reference';
import { parseChallenge, scopeCovers, RegistryTransport } from './transport';

describe('references', () => {
  it('splits registry, repository and tag or digest', () => {
    assert.deepEqual(parseReference('127.0.0.1:5000/models/iris:v3'), { registry: '127.0.0.1:5000', repository: 'models/iris', reference: 'v3' });
    assert.deepEqual(parseReference('localhost/busybox'), { registry: 'localhost', repository: 'busybox', reference: 'latest' });
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(parseReference(`r.example:443/a/b:tag@${digest}`), { registry: 'r.example:443', repository: 'a/b', reference: digest });
    assert.equal(formatReference(parseReference(`h:1/a@${digest}`)), `h:1/a@${digest}`);
    assert.throws(() => parseReference('busybox'), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => parseReference('h:1/Upper/case'), { code: 'INVALID_ARGUMENT' });
  });
});

describe('challenges', () => {
  it('parses bearer and basic challenges', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"'), {
      scheme: 'bearer',
      realm: 'https://auth.example/token',
      service: 'registry.example',
      scope: 'repository:a/b:pull',
    });
    assert.deepEqual(parseChallenge('Basic realm="kiln"'), { scheme: 'basic' });
    assert.equal(parseChallenge('Bearer service="x"'), undefined, 'a bearer challenge needs a realm');
  });

  it('knows when a granted scope covers a wanted one', () => {
    assert.ok(scopeCovers('repository:a:pull,push', 'repository:a:pull'));
    assert.ok(!scopeCovers('repository:a:pull', 'repository:a:pull,push'));
    assert.ok(!scopeCovers('repository:a:pull,push', 'repository:b:pull'));
  });

  it('allows plain HTTP only for loopback registries', () => {
    assert.throws(() => new RegistryTransport({ registry: 'registry.example:5000', insecure: true }), /loopback/);
    assert.equal(new RegistryTransport({ registry: '127.0.0.1:5000', insecure: true }).baseUrl, 'http://127.0.0.1:5000');
    assert.equal(new RegistryTransport({ registry: 'registry.example' }).baseUrl, 'https://registry.example');
  });
});
