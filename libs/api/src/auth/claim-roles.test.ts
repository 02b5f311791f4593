// KILN_OIDC_ROLES: the rules it writes, the errors that stop start-up (naming each bad entry), and the bindings a
// token's claims match.
import assert from 'node:assert/strict';
import test from 'node:test';
import { bindingsFor, parseClaimRoles } from './claim-roles';

test('rules: claim:value=role@namespace, comma-separated, spaces and empty entries ignored; empty is none', () => {
  assert.deepEqual(parseClaimRoles(''), []);
  assert.deepEqual(parseClaimRoles(' groups:ml-platform=admin@* ,, groups:team-fraud=writer@fraud,'), [
    { claim: 'groups', value: 'ml-platform', role: 'admin', namespace: '*' },
    { claim: 'groups', value: 'team-fraud', role: 'writer', namespace: 'fraud' },
  ]);
});

test('rules: a value may hold ":" and "=", and a namespaced claim name may be a URL', () => {
  assert.deepEqual(parseClaimRoles('sub:repo:acme/models:ref:refs/heads/main=writer@fraud,oid:YWJj==reader@default'), [
    { claim: 'sub', value: 'repo:acme/models:ref:refs/heads/main', role: 'writer', namespace: 'fraud' },
    { claim: 'oid', value: 'YWJj=', role: 'reader', namespace: 'default' },
  ]);
  assert.deepEqual(parseClaimRoles('https://kiln.example.com/groups:team-fraud=maintainer@fraud'), [
    { claim: 'https://kiln.example.com/groups', value: 'team-fraud', role: 'maintainer', namespace: 'fraud' },
  ]);
});

test('bad rules stop start-up with one error naming the setting and every bad entry, saying what is wrong', () => {
  const cases: Array<[string, string]> = [
    ['groups=admin@*', 'entry 1 ("groups=admin@*"): not of the form claim:value=role@namespace'],
    ['groups:ml-platform=admin', 'entry 1 ("groups:ml-platform=admin"): not of the form claim:value=role@namespace'],
    ['groups:=admin@*', 'entry 1 ("groups:=admin@*"): not of the form claim:value=role@namespace'],
    ['groups:ml-platform=root@*', 'entry 1 ("groups:ml-platform=root@*"): role "root" is not one of reader, writer, maintainer, admin'],
    ['groups:a=reader@x, groups:b=Writer@fraud', 'entry 2 ("groups:b=Writer@fraud"): role "Writer" is not one of reader, writer, maintainer, admin'],
    ['groups:a=reader@', 'entry 1 ("groups:a=reader@"): a namespace is "*" or one name without "/" or spaces'],
    ['groups:a=reader@team/sub', 'entry 1 ("groups:a=reader@team/sub"): a namespace is "*" or one name without "/" or spaces'],
    ['my groups:a=reader@x', 'entry 1 ("my groups:a=reader@x"): a claim name has no spaces'],
    [
      'groups:a=boss@x,groups:b=reader@*,groups:c',
      'entry 1 ("groups:a=boss@x"): role "boss" is not one of reader, writer, maintainer, admin; entry 3 ("groups:c"): not of the form claim:value=role@namespace',
    ],
  ];
  for (const [text, problem] of cases) {
    assert.throws(() => parseClaimRoles(text), { message: `invalid configuration: KILN_OIDC_ROLES: ${problem}` }, text);
  }
});

const RULES = parseClaimRoles('groups:ml-platform=admin@*,groups:team-fraud=writer@fraud,groups:team-fraud=reader@default,email_verified:true=reader@x');

test('bindings: a claim matches as a string or as an array holding the value, each binding once', () => {
  assert.deepEqual(bindingsFor({ groups: 'team-fraud' }, RULES), [{ namespace: 'fraud', role: 'writer' }, { namespace: 'default', role: 'reader' }]);
  assert.deepEqual(bindingsFor({ groups: ['team-fraud', 'ml-platform', 'team-fraud'] }, parseClaimRoles('groups:ml-platform=admin@*,groups:team-fraud=writer@fraud,groups:ml-platform=admin@*')), [
    { namespace: '*', role: 'admin' },
    { namespace: 'fraud', role: 'writer' },
  ]);
});

test('bindings: none for other values, other types, values of other claims, or inherited properties', () => {
  for (const claims of [{}, { groups: [] }, { groups: 'Team-Fraud' }, { groups: 'team-fraud-ops' }, { groups: ['team'] }, { group: 'team-fraud' }, { groups: { 'team-fraud': true } }, { email_verified: true }, { groups: [['team-fraud']] }]) {
    assert.deepEqual(bindingsFor(claims, RULES), [], JSON.stringify(claims));
  }
  assert.deepEqual(bindingsFor(Object.create({ groups: 'team-fraud' }), RULES), []);
});
