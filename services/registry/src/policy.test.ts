// The registry's policy table: an entry for every RPC the proto defines, and what each role may do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kilnProto } from '@kiln/api';
import { authorize, ruleFor } from '@kiln/api/auth/policy';
import { ROLES, type Caller } from '@kiln/api/context';
import { REGISTRY_POLICY } from './policy';

const rpcs = Object.keys(kilnProto().kiln.v1.Registry.service).map((m) => `kiln.v1.Registry/${m}`);

test('every kiln.v1.Registry RPC has a policy entry, and every entry an RPC', () => {
  assert.deepEqual(Object.keys(REGISTRY_POLICY).sort(), [...rpcs].sort());
});

const MIN_ROLE: Record<string, string> = {
  GetModelVersion: 'reader', ListModelVersions: 'reader', WatchModelVersion: 'reader', DownloadModelVersion: 'reader',
  UploadModel: 'writer', DeleteModelVersion: 'maintainer',
  ListModelAliases: 'reader', ListAliasHistory: 'reader', DiffContracts: 'reader', WatchModels: 'reader',
  SetModelAlias: 'maintainer', DeleteModelAlias: 'maintainer', UpdateModelVersion: 'maintainer',
};

test('a role in namespace fraud: reads, then upload, then delete; tokens and unfiltered lists need `*`', () => {
  for (const role of ROLES) {
    const caller: Caller = { kind: 'token', peer: 'p', tokenId: 't', owner: 'o', bindings: [{ namespace: 'fraud', role }] };
    for (const rpc of rpcs) {
      const method = rpc.split('/')[1];
      const request = method === 'UploadModel' ? { header: { model: 'fraud/m' } }
        : method === 'DiffContracts' ? { against: { model: 'fraud/m' } } : { model: 'fraud/m', namePrefix: 'fraud/' };
      const min = MIN_ROLE[method] ?? (method === 'ListModels' ? 'reader' : 'admin-everywhere');
      const allowed = min !== 'admin-everywhere' && ROLES.indexOf(role) >= ROLES.indexOf(min as never);
      const run = () => authorize(ruleFor(REGISTRY_POLICY, rpc), rpc, caller, request);
      if (allowed) run();
      else assert.throws(run, /lacks role/, `${role} on ${rpc}`);
      // Another namespace: nothing.
      const elsewhere = method === 'UploadModel' ? { header: { model: 'risk/m' } } : method === 'DiffContracts' ? { against: { model: 'risk/m' } } : { model: 'risk/m' };
      assert.throws(() => authorize(ruleFor(REGISTRY_POLICY, rpc), rpc, caller, elsewhere), /lacks role/);
    }
  }
});
