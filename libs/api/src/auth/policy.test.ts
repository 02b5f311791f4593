// The policy decision: ordered roles, `*` bindings, service callers, and messages naming the role and namespace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KilnError } from '@kiln/errors';
import type { Caller } from '../context';
import { authorize, holdsRole, ruleFor, type Policy } from './policy';

const token = (bindings: Array<{ namespace: string; role: 'reader' | 'writer' | 'maintainer' | 'admin' }>): Caller =>
  ({ kind: 'token', peer: 'p', tokenId: 'tok_1', owner: 'alice', bindings });

test('a role includes those before it; `*` binds everywhere, and only `*` holds on every namespace', () => {
  assert.ok(holdsRole([{ namespace: 'fraud', role: 'maintainer' }], 'writer', 'fraud'));
  assert.ok(!holdsRole([{ namespace: 'fraud', role: 'writer' }], 'maintainer', 'fraud'));
  assert.ok(!holdsRole([{ namespace: 'fraud', role: 'admin' }], 'reader', 'risk'));
  assert.ok(holdsRole([{ namespace: '*', role: 'reader' }], 'reader', 'risk'));
  assert.ok(!holdsRole([{ namespace: 'fraud', role: 'admin' }], 'reader', '*'));
  assert.ok(holdsRole([{ namespace: '*', role: 'admin' }], 'admin', '*'));
});

const policy: Policy = {
  'x.S/Read': { role: 'reader', namespace: (r: { ns: string }) => r.ns },
  'x.S/Build': { servicesOnly: true },
};
const denied = (fn: () => void, message: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof KilnError && err.code === 'PERMISSION_DENIED' && message.test(err.message));

test('PERMISSION_DENIED names the caller, the role it lacks and the namespace', () => {
  authorize(ruleFor(policy, 'x.S/Read'), 'x.S/Read', token([{ namespace: 'a', role: 'reader' }]), { ns: 'a' });
  denied(() => authorize(ruleFor(policy, 'x.S/Read'), 'x.S/Read', token([{ namespace: 'a', role: 'reader' }]), { ns: 'b' }),
    /token tok_1 \(owner alice\) lacks role reader in namespace b/);
});

test('service-only RPCs take Kiln services only; an RPC missing from the table is refused', () => {
  authorize(ruleFor(policy, 'x.S/Build'), 'x.S/Build', { kind: 'service', peer: 'p', service: 'kiln' }, {});
  denied(() => authorize(ruleFor(policy, 'x.S/Build'), 'x.S/Build', token([{ namespace: '*', role: 'admin' }]), {}), /only Kiln service identities/);
  denied(() => ruleFor(policy, 'x.S/Other'), /no entry/);
});
