// The audit trail end to end, on the real Postgres with authentication on: a record for each upload, delete and token
// change, with who, what, which version, the result, when and from where; refused calls recorded too; filters and
// pages of ListAuditEvents (admin only); a table that refuses to be rewritten; `kiln audit`.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { grpc, registryClient, type RegistryClient } from '@kiln/api';
import { promiseClient, type RegistryPromiseClient } from '@kiln/api/client';
import { withBearerToken } from '@kiln/api/auth/bearer';
import type { AuditEvent__Output } from '@kiln/api/generated/kiln/v1/AuditEvent';
import type { ListAuditEventsRequest } from '@kiln/api/generated/kiln/v1/ListAuditEventsRequest';
import { startKiln, uploadModel, type RunningKiln } from './helpers/services';
import { execute, REPO_ROOT } from './helpers/kiln-process';

const ADMIN = `kiln_${'b2'.repeat(20)}`;
const SERVICE = `service-${'t8'.repeat(20)}`;

const codeOf = (err: unknown) => grpc.status[(err as { code?: number }).code ?? -1];

describe('the audit trail', () => {
  let kiln: RunningKiln;
  const clients: RegistryClient[] = [];
  const client = (token?: string) => {
    const c = registryClient(kiln.registry, withBearerToken(token));
    clients.push(c);
    return c;
  };
  let admin: RegistryPromiseClient;
  const tokens: Record<string, { id: string; secret: string }> = {};
  const list = async (q: ListAuditEventsRequest = {}) => (await admin.ListAuditEvents({ pageSize: 1000, ...q })).events;

  before(async () => {
    kiln = await startKiln({ env: { KILN_ADMIN_TOKEN: ADMIN, KILN_SERVICE_TOKEN: SERVICE } });
    admin = promiseClient(client(ADMIN));
    for (const role of ['reader', 'writer', 'maintainer'] as const) {
      const created = await admin.CreateToken({ owner: `${role} of audit`, bindings: [{ namespace: 'audit', role: `ROLE_${role.toUpperCase()}` as 'ROLE_READER' }] });
      tokens[role] = { id: created.token!.id, secret: created.secret };
    }
  });
  after(async () => {
    for (const c of clients) c.close();
    await kiln?.stop();
  });

  test('records each change with who, what, which version, the result, when and the peer; and each refused call', async () => {
    const started = Date.now();
    const writer = client(tokens.writer.secret);
    const v = await uploadModel(writer, 'audit/fraud', [{ path: 'model.bin', content: 'weights' }]);
    assert.equal(v.version, 1);
    const deniedDelete = await promiseClient(client(tokens.reader.secret)).DeleteModelVersion({ model: 'audit/fraud', version: 1 }).catch(codeOf);
    assert.equal(deniedDelete, 'PERMISSION_DENIED');
    await promiseClient(client(tokens.maintainer.secret)).DeleteModelVersion({ model: 'audit/fraud', version: 1 });
    const anonymous = await promiseClient(client()).GetModelVersion({ model: 'audit/fraud', version: 1 }).catch(codeOf);
    assert.equal(anonymous, 'UNAUTHENTICATED');
    const failedUpload = await uploadModel(writer, 'audit/empty', [{ path: 'empty.bin', content: '' }]).catch(codeOf);
    assert.equal(failedUpload, 'INVALID_ARGUMENT');

    const events = await list({ namespace: 'audit' });
    const summary = events.map((e) => [e.rpc.replace('kiln.v1.Registry/', ''), e.caller, e.model, Number(e.version), e.result]);
    assert.deepEqual(summary, [
      ['UploadModel', `token:${tokens.writer.id}`, 'audit/empty', 0, 'INVALID_ARGUMENT'],
      ['GetModelVersion', 'anonymous', 'audit/fraud', 1, 'UNAUTHENTICATED'],
      ['DeleteModelVersion', `token:${tokens.maintainer.id}`, 'audit/fraud', 1, 'OK'],
      ['DeleteModelVersion', `token:${tokens.reader.id}`, 'audit/fraud', 1, 'PERMISSION_DENIED'],
      ['UploadModel', `token:${tokens.writer.id}`, 'audit/fraud', 1, 'OK'],
    ]);
    const byResult = (r: string) => events.find((e) => e.result === r)!;
    assert.match(byResult('PERMISSION_DENIED').message, /lacks role maintainer in namespace audit/);
    assert.match(byResult('UNAUTHENTICATED').message, /missing token/);
    assert.match(byResult('INVALID_ARGUMENT').message, /the model is empty/);
    assert.match(events.at(-1)!.message, /created version 1 \(1 files, 7 bytes\)/);
    for (const e of events) {
      assert.match(e.peer, /127\.0\.0\.1:\d+/, 'the peer address');
      const at = Number(e.time!.seconds) * 1000;
      assert.ok(at >= started - 2000 && at <= Date.now() + 1000, 'the time');
      assert.equal(e.namespace, 'audit');
      assert.match(e.callId, /^[0-9a-f-]{36}$/);
    }
    assert.equal(new Set(events.map((e) => e.callId)).size, events.length, 'one record per call');
    assert.ok(!JSON.stringify(await list()).includes(tokens.writer.secret.slice(5)), 'no secret in any record');
  });

  test('records token changes (and the bootstrap admin token) in their transaction; a failed revoke is recorded as such', async () => {
    const created = await admin.CreateToken({ owner: 'carol', bindings: [{ namespace: 'risk', role: 'ROLE_WRITER' }] });
    await admin.RevokeToken({ id: created.token!.id });
    assert.equal(await admin.RevokeToken({ id: 'tok_absent' }).catch(codeOf), 'NOT_FOUND');
    const [missing, revoked, made] = await list({ rpc: 'RevokeToken' }).then(async (r) => [...r.slice(0, 2), (await list({ rpc: 'CreateToken' }))[0]]);
    assert.deepEqual([missing.result, missing.message], ['NOT_FOUND', 'RevokeTokenRequest.id: no API token tok_absent']);
    assert.deepEqual([revoked.result, revoked.message], ['OK', `revoked token ${created.token!.id}`]);
    assert.deepEqual([made.result, made.message], ['OK', `created token ${created.token!.id} for carol: writer on risk`]);
    const adminId = made.caller;
    assert.match(adminId, /^token:tok_[0-9a-f]{16}$/);
    const [bootstrap] = await list({ rpc: 'registry/startup' });
    assert.deepEqual([bootstrap.caller, bootstrap.message], ['service:registry', `registered the admin token of KILN_ADMIN_TOKEN as ${adminId.slice('token:'.length)}`]);
  });

  test('ListAuditEvents filters by model, caller, method, result and time, pages newest first, and refuses a bad filter', async () => {
    const all = await list();
    const writer = `token:${tokens.writer.id}`;
    assert.deepEqual((await list({ caller: writer })).map((e) => e.caller), all.filter((e) => e.caller === writer).map((e) => e.caller));
    assert.deepEqual((await list({ model: 'audit/fraud', result: 'OK' })).map((e) => e.rpc), ['kiln.v1.Registry/DeleteModelVersion', 'kiln.v1.Registry/UploadModel']);
    assert.deepEqual((await list({ rpc: 'kiln.v1.Registry/UploadModel', result: 'invalid_argument' })).map((e) => e.model), ['audit/empty']);
    assert.equal((await list({ startTime: { seconds: Math.floor(Date.now() / 1000) + 3600, nanos: 0 } })).length, 0);
    assert.equal((await list({ endTime: { seconds: Math.floor(Date.now() / 1000) + 3600, nanos: 0 } })).length, all.length);

    const paged: AuditEvent__Output[] = [];
    let pageToken = '';
    do {
      const page = await admin.ListAuditEvents({ pageSize: 2, pageToken });
      assert.ok(page.events.length <= 2);
      paged.push(...page.events);
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.deepEqual(paged.map((e) => e.id), all.map((e) => e.id));
    assert.deepEqual(paged.map((e) => Number(e.id)), [...paged.map((e) => Number(e.id))].sort((a, b) => b - a), 'newest first');

    const bad = await admin.ListAuditEvents({ result: 'BOGUS' }).catch((err) => [codeOf(err), (err as grpc.ServiceError).details]);
    assert.deepEqual(bad, ['INVALID_ARGUMENT', 'ListAuditEventsRequest.result: "BOGUS" is not a result: OK or a gRPC status code (PERMISSION_DENIED, INVALID_ARGUMENT, ...)']);
    assert.equal(await admin.ListAuditEvents({ pageToken: 'nope' }).catch(codeOf), 'INVALID_ARGUMENT');
  });

  test('the table refuses updates, deletes and truncation', async () => {
    const db = new pg.Client({ connectionString: kiln.config.database.url });
    await db.connect();
    try {
      for (const sql of ['UPDATE audit_events SET result = \'OK\'', 'DELETE FROM audit_events', 'TRUNCATE audit_events']) {
        await assert.rejects(db.query(sql), /audit_events is append-only/, sql);
      }
      assert.ok(Number((await db.query('SELECT count(*) AS n FROM audit_events')).rows[0].n) > 0);
    } finally {
      await db.end();
    }
  });

  test('kiln audit shows the records, filtered, as text and as JSON', async () => {
    const env = { ...process.env, KILN_ADDRESS: kiln.registry, KILN_TOKEN: ADMIN };
    const kilnCli = path.join(REPO_ROOT, 'cli/bin/kiln');
    const text = await execute(kilnCli, ['audit', '--namespace', 'audit', '--result', 'OK', '--since', '1h'], env);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trim().split('\n');
    assert.match(lines[0], /^TIME\s+CALLER\s+RPC\s+MODEL\s+RESULT\s+MESSAGE$/);
    assert.match(lines[1], new RegExp(`^\\S+Z\\s+token:${tokens.maintainer.id}\\s+DeleteModelVersion\\s+audit/fraud:1\\s+OK\\s+deleted version 1$`));
    assert.match(lines[2], /UploadModel\s+audit\/fraud:1\s+OK\s+created version 1/);
    assert.equal(lines.length, 3);
    const json = JSON.parse((await execute(kilnCli, ['audit', '--json', '--limit', '1'], env)).stdout) as { events: Array<{ rpc: string }> };
    assert.equal(json.events.length, 1);
    const denied = await execute(kilnCli, ['audit'], { ...env, KILN_TOKEN: tokens.maintainer.secret });
    assert.equal(denied.code, 11, 'PERMISSION_DENIED for a non-admin');
    assert.equal((await execute(kilnCli, ['audit', '--since', 'yesterday'], env)).code, 2, 'a usage error');
  });
});
