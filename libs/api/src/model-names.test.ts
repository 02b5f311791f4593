// The rules of model names: one namespace level, the same rules on each side, one canonical form.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '@kiln/errors';
import { canonicalModelName, DEFAULT_NAMESPACE, namespaceOf, splitModelName, validateNamespace } from './model-names';

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KilnError, String(err));
    assert.equal(err.code, 'INVALID_ARGUMENT');
    return err.message;
  }
  return assert.fail('accepted');
};

describe('model names', () => {
  it('takes a name without a slash as the default namespace\'s, and team/name as team\'s', () => {
    assert.equal(DEFAULT_NAMESPACE, 'default');
    assert.equal(namespaceOf('fraud'), 'default');
    assert.equal(namespaceOf('team/fraud'), 'team');
    assert.equal(namespaceOf('default/fraud'), 'default');
    assert.deepEqual(splitModelName('fraud'), { namespace: 'default', name: 'fraud' });
    assert.deepEqual(splitModelName('team/fraud'), { namespace: 'team', name: 'fraud' });
  });

  it('gives default/fraud and fraud one canonical form, fraud; other namespaces keep theirs', () => {
    assert.equal(canonicalModelName('fraud', 'm'), 'fraud');
    assert.equal(canonicalModelName('default/fraud', 'm'), 'fraud');
    assert.equal(canonicalModelName('team-a/fraud.v2', 'm'), 'team-a/fraud.v2');
    assert.equal(canonicalModelName('default/default', 'm'), 'default');
  });

  it('applies the same character rules to either side, each up to 128 characters', () => {
    const long = 'a'.repeat(128);
    assert.equal(canonicalModelName(`${long}/${long}`, 'm'), `${long}/${long}`);
    for (const bad of ['Team/x', 'team/X', '-team/x', 'team/x-', 'team_/x', '/x', 'team/', '/', 'team x/y']) {
      assert.match(refusal(() => canonicalModelName(bad, 'h.model')), /is not valid: use namespace\/name/, bad);
    }
    assert.match(refusal(() => canonicalModelName(`${'a'.repeat(129)}/x`, 'm')), /^m: the model name's namespace is 129 characters long: at most 128$/);
    assert.match(refusal(() => canonicalModelName(`team/${'a'.repeat(129)}`, 'm')), /^m: the model name after its namespace is 129 characters long: at most 128$/);
    assert.match(refusal(() => canonicalModelName('a'.repeat(129), 'm')), /^m: the model name is 129 characters long: at most 128$/, 'not repeated');
    assert.match(refusal(() => canonicalModelName('', 'm')), /empty/);
    assert.match(refusal(() => canonicalModelName('Fraud', 'm')), /is not valid/);
  });

  it('allows one namespace level only', () => {
    assert.match(refusal(() => canonicalModelName('a/b/c', 'm')), /one slash/);
    assert.match(refusal(() => canonicalModelName('default/b/c', 'm')), /one slash/);
  });

  it('keeps the kiln namespace for Kiln\'s own images (the layer index)', () => {
    assert.match(refusal(() => canonicalModelName('kiln/layers', 'm')), /kept for Kiln's own images/);
    assert.equal(canonicalModelName('kiln', 'm'), 'kiln', 'a model named kiln is the default namespace\'s');
  });

  it('checks a namespace alone by the same rules', () => {
    validateNamespace('team', 'ns');
    validateNamespace('default', 'ns');
    for (const bad of ['', 'Team', 'a/b', '-a', 'a'.repeat(129)]) refusal(() => validateNamespace(bad, 'ns'));
  });
});
