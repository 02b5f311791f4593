// Authentication and authorization end to end, on the real Postgres: API tokens (shown once, stored hashed, listed,
// revoked and refused on a second registry replica within a second, expired), the bootstrap admin token, every
// registry RPC x role, the builder and inference refusing anyone but the registry, a fuzzed authorization header,
// servers refusing to start unauthenticated off loopback, and `kiln token`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import pg from 'pg';
import { builderClient, grpc, inferenceClient, kilnProto, registryClient, type RegistryClient } from '@kiln/api';
import { promiseClient } from '@kiln/api/client';
import { withBearerToken } from '@kiln/api/auth/bearer';
import { getModelVersionRequestBytes } from '@kiln/api/wire-testing';
import { ROLES, type Role } from '@kiln/api/context';
import { createLogger } from '@kiln/log';
import { startKiln, uploadModel, waitForBuild, type RunningKiln } from './helpers/services';
import { startRegistry } from '../services/registry/src/index';
import { startBuilder } from '../services/builder/src/index';
import { startInference } from '../services/inference/src/index';
import { REGISTRY_POLICY } from '../services/registry/src/policy';
import { BUILDER_POLICY } from '../services/builder/src/policy';
import { INFERENCE_POLICY } from '../services/inference/src/policy';
import { configFrom } from './helpers/test-config';

const ADMIN = `kiln_${'a1'.repeat(20)}`;
const SERVICE = `service-${'s9'.repeat(20)}`;
const root = path.resolve(import.meta.dirname, '..');
const log = createLogger('auth-test', 'silent');

type Code = keyof typeof grpc.status;
const codeOf = (err: unknown) => grpc.status[(err as { code?: number }).code ?? -1] as Code;

/** The status a promise ends with ('OK' when it resolves). */
async function statusOf(p: Promise<unknown>): Promise<{ code: Code; details: string }> {
  try {
    await p;
    return { code: 'OK', details: '' };
  } catch (err) {
    return { code: codeOf(err), details: (err as { details?: string }).details ?? String(err) };
  }
}

const clientWith = (address: string, token?: string) => registryClient(address, withBearerToken(token));

async function createToken(client: RegistryClient, owner: string, bindings: Array<{ namespace: string; role: Role }>, expireTime?: Date) {
  return promiseClient(client).CreateToken({
    owner,
    bindings: bindings.map((b) => ({ namespace: b.namespace, role: `ROLE_${b.role.toUpperCase()}` as 'ROLE_READER' })),
    expireTime: expireTime ? { seconds: Math.floor(expireTime.getTime() / 1000), nanos: (expireTime.getTime() % 1000) * 1e6 } : null,
  });
}

describe('with authentication on', () => {
  let kiln: RunningKiln;
  let admin: RegistryClient;
  let adminSecret = ADMIN;
  const ADMIN_SECRET = () => adminSecret;
  const extra: Array<{ stop(): Promise<void> }> = [];
  const clients: RegistryClient[] = [];
  const client = (token?: string, address = kiln.registry) => {
    const c = clientWith(address, token);
    clients.push(c);
    return c;
  };
  /** Another registry replica on the same database. */
  const replica = async () => {
    const r = await startRegistry({ ...kiln.config, listen: { ...kiln.config.listen, registry: '127.0.0.1:0' } }, log);
    extra.push(r);
    return r.address;
  };

  before(async () => {
    kiln = await startKiln({ env: { KILN_ADMIN_TOKEN: ADMIN, KILN_SERVICE_TOKEN: SERVICE } });
    admin = client(ADMIN);
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const r of extra) await r.stop();
    await kiln?.stop();
  });

  test('a token is shown once, stored only as its SHA-256, listed without its secret, and refused on a second replica within a second of its revocation', async () => {
    const created = await createToken(admin, 'alice', [{ namespace: '*', role: 'reader' }]);
    assert.match(created.secret, /^kiln_[A-Za-z0-9_-]{43}$/);
    const db = new pg.Client({ connectionString: kiln.config.database.url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT row_to_json(t)::text AS row, secret_sha256 FROM api_tokens t WHERE id = $1', [created.token!.id]);
      assert.equal(rows.length, 1);
      assert.deepEqual(rows[0].secret_sha256, createHash('sha256').update(created.secret).digest());
      assert.ok(!rows[0].row.includes(created.secret.slice(5)), 'the secret is nowhere in its row');
    } finally {
      await db.end();
    }
    const listed = await promiseClient(admin).ListTokens({});
    const mine = listed.tokens.find((t) => t.id === created.token!.id)!;
    assert.equal(mine.owner, 'alice');
    assert.deepEqual(mine.bindings.map((b) => [b.namespace, b.role]), [['*', 'ROLE_READER']]);
    assert.ok(!JSON.stringify(listed).includes(created.secret));

    const other = client(created.secret, await replica());
    assert.equal((await statusOf(promiseClient(other).GetModelVersion({ model: 'nothing', version: 0 }))).code, 'NOT_FOUND');
    await promiseClient(admin).RevokeToken({ id: created.token!.id });
    const revokedAt = Date.now();
    let refused: { code: Code; details: string };
    do refused = await statusOf(promiseClient(other).GetModelVersion({ model: 'nothing', version: 0 }));
    while (refused.code !== 'UNAUTHENTICATED' && Date.now() - revokedAt < 2000);
    assert.equal(refused.code, 'UNAUTHENTICATED');
    assert.match(refused.details, /revoked/);
    assert.ok(Date.now() - revokedAt < 1000, `refused ${Date.now() - revokedAt} ms after the revocation`);
    const all = await promiseClient(admin).ListTokens({ showRevoked: true });
    assert.ok(all.tokens.find((t) => t.id === created.token!.id)?.revokeTime);
    assert.ok(!(await promiseClient(admin).ListTokens({})).tokens.some((t) => t.id === created.token!.id));
  });

  test('an expired token is refused, saying so; missing and unknown tokens say which', async () => {
    const created = await createToken(admin, 'ci', [{ namespace: '*', role: 'reader' }], new Date(Date.now() + 1500));
    const c = client(created.secret);
    assert.equal((await statusOf(promiseClient(c).ListModels({}))).code, 'OK');
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await statusOf(promiseClient(c).ListModels({}));
    assert.deepEqual([expired.code, /expired/.test(expired.details)], ['UNAUTHENTICATED', true], expired.details);
    const missing = await statusOf(promiseClient(client()).ListModels({}));
    assert.deepEqual([missing.code, /missing token/.test(missing.details)], ['UNAUTHENTICATED', true]);
    const unknown = await statusOf(promiseClient(client(`kiln_${'x'.repeat(43)}`)).ListModels({}));
    assert.deepEqual([unknown.code, /unknown token/.test(unknown.details)], ['UNAUTHENTICATED', true]);
  });

  test('KILN_ADMIN_TOKEN is registered once, hashed, across restarts and replicas, and stays revoked once revoked', async () => {
    await Promise.all([replica(), replica()]);
    const bootstrap = (await promiseClient(admin).ListTokens({ showRevoked: true })).tokens.filter((t) => t.owner === 'KILN_ADMIN_TOKEN');
    assert.equal(bootstrap.length, 1);
    assert.deepEqual(bootstrap[0].bindings.map((b) => [b.namespace, b.role]), [['*', 'ROLE_ADMIN']]);
    // Revoked through a second admin, then a restart: still refused.
    const second = await createToken(admin, 'second admin', [{ namespace: '*', role: 'admin' }]);
    await promiseClient(client(second.secret)).RevokeToken({ id: bootstrap[0].id });
    const restarted = await replica();
    const refused = await statusOf(promiseClient(client(ADMIN, restarted)).ListTokens({}));
    assert.deepEqual([refused.code, /revoked/.test(refused.details)], ['UNAUTHENTICATED', true]);
    admin = client(second.secret);
    adminSecret = second.secret;
  });

  test('every registry RPC x role: allowed, or PERMISSION_DENIED naming the role and the namespace', async () => {
    const secrets = new Map<Role, string>();
    for (const role of ROLES) secrets.set(role, (await createToken(admin, `${role} of default`, [{ namespace: 'default', role }])).secret);
    const elsewhere = (await createToken(admin, 'admin of risk', [{ namespace: 'risk', role: 'admin' }])).secret;
    const calls: Record<string, (c: RegistryClient) => Promise<unknown>> = {
      GetModelVersion: (c) => promiseClient(c).GetModelVersion({ model: 'm', version: 1 }),
      ListModels: (c) => promiseClient(c).ListModels({}),
      ListModelVersions: (c) => promiseClient(c).ListModelVersions({ model: 'm' }),
      WatchModelVersion: async (c) => { for await (const _ of promiseClient(c).WatchModelVersion({ model: 'm', version: 1 })) break; },
      DownloadModelVersion: async (c) => { for await (const _ of promiseClient(c).DownloadModelVersion({ model: 'm', version: 1 })) break; },
      UploadModel: (c) => promiseClient(c).UploadModel([{ header: { model: 'm', format: 'ARCHIVE_FORMAT_FILE', fileName: 'x.bin' } }]),
      DeleteModelVersion: (c) => promiseClient(c).DeleteModelVersion({ model: 'm', version: 1 }),
      CreateToken: (c) => promiseClient(c).CreateToken({ owner: '' }),
      ListTokens: (c) => promiseClient(c).ListTokens({}),
      RevokeToken: (c) => promiseClient(c).RevokeToken({ id: 'tok_none' }),
      ListAuditEvents: (c) => promiseClient(c).ListAuditEvents({}),
      SetModelAlias: (c) => promiseClient(c).SetModelAlias({ model: 'm', alias: 'production', version: 1 }),
      DeleteModelAlias: (c) => promiseClient(c).DeleteModelAlias({ model: 'm', alias: 'production' }),
      ListModelAliases: (c) => promiseClient(c).ListModelAliases({ model: 'm' }),
      ListAliasHistory: (c) => promiseClient(c).ListAliasHistory({ model: 'm' }),
      UpdateModelVersion: (c) => promiseClient(c).UpdateModelVersion({ model: 'm', version: 1, setLabels: { a: 'b' } }),
      DiffContracts: (c) => promiseClient(c).DiffContracts({ against: { model: 'm', version: 1 }, version: { model: 'm', version: 2 } }),
      // A watch allowed runs until its deadline.
      WatchModels: async (c) => { for await (const _ of promiseClient(c).WatchModels({}, { deadline: Date.now() + 300 })) break; },
      CreateWebhook: (c) => promiseClient(c).CreateWebhook({ url: 'http://127.0.0.1:9/hook', model: 'm', secret: 'x'.repeat(8) }),
      ListWebhooks: (c) => promiseClient(c).ListWebhooks({}),
      DeleteWebhook: (c) => promiseClient(c).DeleteWebhook({ id: 'wh_none' }),
      EnableWebhook: (c) => promiseClient(c).EnableWebhook({ id: 'wh_none' }),
      ListWebhookDeliveries: (c) => promiseClient(c).ListWebhookDeliveries({ webhookId: 'wh_none' }),
    };
    assert.deepEqual(Object.keys(calls).sort(), Object.keys(kilnProto().kiln.v1.Registry.service).sort(), 'a call for every RPC');
    // The least role in namespace default each RPC needs; `*` ones no default-namespace binding gives.
    const needs: Record<string, Role | '*'> = {
      GetModelVersion: 'reader', ListModelVersions: 'reader', WatchModelVersion: 'reader', DownloadModelVersion: 'reader',
      UploadModel: 'writer', DeleteModelVersion: 'maintainer', ListModels: '*', CreateToken: '*', ListTokens: '*', RevokeToken: '*', ListAuditEvents: '*',
      SetModelAlias: 'maintainer', DeleteModelAlias: 'maintainer', ListModelAliases: 'reader', ListAliasHistory: 'reader', UpdateModelVersion: 'maintainer',
      WatchModels: '*', DiffContracts: 'reader', CreateWebhook: '*', ListWebhooks: '*', DeleteWebhook: '*', EnableWebhook: '*', ListWebhookDeliveries: '*',
    };
    for (const [rpc, call] of Object.entries(calls)) {
      for (const role of ROLES) {
        const need = needs[rpc];
        const allowed = need !== '*' && ROLES.indexOf(role) >= ROLES.indexOf(need);
        const { code, details } = await statusOf(call(client(secrets.get(role))));
        if (allowed) assert.ok(code !== 'PERMISSION_DENIED' && code !== 'UNAUTHENTICATED', `${role} on ${rpc}: ${code} ${details}`);
        else {
          assert.equal(code, 'PERMISSION_DENIED', `${role} on ${rpc}: ${details}`);
          const needed = need === '*' ? (rpc === 'ListModels' || rpc === 'WatchModels' ? 'reader' : 'admin') : need;
          assert.match(details, new RegExp(`lacks role ${needed} ${need === '*' ? 'on every namespace' : 'in namespace default'}`));
        }
      }
      const other = await statusOf(call(client(elsewhere)));
      assert.equal(other.code, 'PERMISSION_DENIED', `admin of risk on ${rpc}`);
      const everything = await statusOf(call(admin));
      assert.ok(everything.code !== 'PERMISSION_DENIED', `admin of * on ${rpc}: ${everything.details}`);
    }
  });

  test('the builder and inference refuse every caller but a Kiln service; the registry\'s own calls to them work', async () => {
    const adminToken = withBearerToken(ADMIN);
    const builder = builderClient(kiln.builder, adminToken);
    const inference = inferenceClient(kiln.inference, withBearerToken((await createToken(admin, 'x', [{ namespace: '*', role: 'admin' }])).secret));
    const anonymous = inferenceClient(kiln.inference);
    const service = inferenceClient(kiln.inference, withBearerToken(SERVICE));
    try {
      const build = async () => { for await (const _ of promiseClient(builder).BuildModelVersion({ model: 'm', version: 1 })) break; };
      const tag = () => promiseClient(builder).TagModelVersion({ model: 'm', version: 1, tag: 'production', imageReference: 'x', imageDigest: `sha256:${'0'.repeat(64)}` });
      const untag = () => promiseClient(builder).UntagModelVersion({ model: 'm', tag: 'production', imageDigest: '' });
      for (const refused of [await statusOf(build()), await statusOf(tag()), await statusOf(untag()), await statusOf(promiseClient(inference).InferContract({ path: '/etc' })),
        await statusOf(promiseClient(anonymous).InferContract({ path: '/etc' }))]) {
        assert.equal(refused.code, 'PERMISSION_DENIED', refused.details);
        assert.match(refused.details, /accepts only Kiln service identities/);
      }
      // The service token is let through (and the path then refused on its own terms).
      assert.equal((await statusOf(promiseClient(service).InferContract({ path: '/etc' }))).code, 'FAILED_PRECONDITION');
    } finally {
      for (const c of [builder, inference, anonymous, service]) c.close();
    }
    // Upload (registry -> inference), build (registry -> builder -> registry), all with the service token.
    const v = await uploadModel(admin, 'svc-model', [{ path: 'kiln.yaml', content: 'kind: Model\nname: svc-model\ncontract:\n  inputs:\n    x: { shape: [1], type: float32 }\n  outputs:\n    y: { shape: [1], type: float32 }\n' }, { path: 'w.bin', content: 'weights' }]);
    const built = await waitForBuild(admin, 'svc-model', Number(v.version));
    assert.equal(built.version.status, 'MODEL_VERSION_STATUS_RELEASED', built.version.failureReason);
  });

  test('the service token holds reader everywhere on the registry, and nothing more', async () => {
    const c = client(SERVICE);
    assert.equal((await statusOf(promiseClient(c).GetModelVersion({ model: 'nothing', version: 0 }))).code, 'NOT_FOUND');
    const denied = await statusOf(promiseClient(c).ListTokens({}));
    assert.deepEqual([denied.code, /service kiln lacks role admin/.test(denied.details)], ['PERMISSION_DENIED', true], denied.details);
  });

  test('fuzzed authorization headers (empty, huge, binary, many values): always UNAUTHENTICATED, and the server keeps serving', async () => {
    const values: Array<string | string[]> = ['', 'Bearer', 'Bearer ', 'Basic dXNlcg==', 'Bearer a b', `Bearer ${'a'.repeat(16_000)}`,
      `Bearer kiln_${'\u00e9'.repeat(8)}`, 'Bearer \u0001\u0002\u00ff', ['Bearer a', 'Bearer b'], Array.from({ length: 50 }, (_, i) => `Bearer t${i}`)];
    for (let i = 0; i < 200; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + (i % 60) }, () => 1 + Math.floor(Math.random() * 255)));
      values.push(i % 2 ? `Bearer ${bytes.toString('latin1')}` : bytes.toString('latin1'));
    }
    // Raw HTTP/2, as anything on the network may send: grpc-js's own client refuses some of these before sending.
    const session = http2.connect(`http://${kiln.registry}`);
    session.on('error', () => {});
    const request = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), getModelVersionRequestBytes('m', 1n)]);
    request.writeUInt32BE(request.length - 5, 1);
    let sent = 0;
    try {
      for (const value of values) {
        let stream: http2.ClientHttp2Stream;
        try {
          stream = session.request({ ':method': 'POST', ':path': '/kiln.v1.Registry/GetModelVersion', 'content-type': 'application/grpc', te: 'trailers', authorization: value as string });
        } catch {
          continue; // a value HTTP/2 itself cannot carry (a control character Node refuses to send)
        }
        sent++;
        const status = await new Promise<string>((resolve, reject) => {
          let code = '';
          stream.on('response', (headers) => (code ||= String(headers['grpc-status'] ?? '')));
          stream.on('trailers', (trailers) => (code ||= String(trailers['grpc-status'] ?? '')));
          stream.on('data', () => {});
          stream.on('close', () => resolve(code));
          stream.on('error', reject);
          stream.end(request);
        });
        assert.equal(grpc.status[Number(status)], 'UNAUTHENTICATED', `${JSON.stringify(value).slice(0, 80)}: status ${status}`);
      }
    } finally {
      session.close();
    }
    assert.ok(sent > values.length / 2, `${sent} of ${values.length} values sent`);
    assert.equal((await statusOf(promiseClient(admin).ListModels({}))).code, 'OK');
  });

  test('health is always open; reflection is open by default and takes a token under KILN_REFLECTION=authenticated', async () => {
    const raw = (address: string, token?: string) => {
      const c = new grpc.Client(address, grpc.credentials.createInsecure(), withBearerToken(token));
      clients.push(c as unknown as RegistryClient);
      return c;
    };
    const bytes = (b: Buffer) => b;
    const health = (c: grpc.Client) => new Promise((resolve, reject) =>
      c.makeUnaryRequest('/grpc.health.v1.Health/Check', bytes, bytes, Buffer.alloc(0), (err, res) => (err ? reject(err) : resolve(res))));
    // ServerReflectionRequest { list_services: "" }: the first response, or the status.
    const reflection = (c: grpc.Client) => new Promise((resolve, reject) => {
      const call = c.makeBidiStreamRequest('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', bytes, bytes);
      call.on('data', (d) => {
        resolve(d);
        call.cancel();
      });
      call.on('error', (err: { code?: number }) => err.code === grpc.status.CANCELLED || reject(err));
      call.write(Buffer.from([0x3a, 0x00]));
    });
    assert.equal((await statusOf(health(raw(kiln.registry)))).code, 'OK');
    assert.equal((await statusOf(reflection(raw(kiln.registry)))).code, 'OK');
    const restricted = await startRegistry({ ...kiln.config, listen: { ...kiln.config.listen, registry: '127.0.0.1:0' }, auth: { ...kiln.config.auth, reflection: 'authenticated' } }, log);
    extra.push(restricted);
    assert.equal((await statusOf(health(raw(restricted.address)))).code, 'OK');
    const refused = await statusOf(reflection(raw(restricted.address)));
    assert.deepEqual([refused.code, /missing token/.test(refused.details)], ['UNAUTHENTICATED', true], refused.details);
    assert.equal((await statusOf(reflection(raw(restricted.address, ADMIN_SECRET())))).code, 'OK');
  });

  test('kiln token create | list | revoke', async () => {
    const kilnCli = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(path.join(root, 'cli/bin/kiln'), args, { env: { ...process.env, KILN_ADDRESS: kiln.registry, KILN_TOKEN: ADMIN_NOW() }, cwd: root },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })));
    let adminSecret = '';
    const ADMIN_NOW = () => adminSecret;
    adminSecret = (await createToken(admin, 'cli admin', [{ namespace: '*', role: 'admin' }])).secret;
    const created = await kilnCli('token', 'create', '--owner', 'bob', '--role', 'default=writer', '--role', 'risk=reader', '--expires', '30d');
    assert.equal(created.code, 0, created.stderr);
    const secret = created.stdout.trim();
    assert.match(secret, /^kiln_/);
    const id = /created (tok_[0-9a-f]+)/.exec(created.stderr)![1];
    const listed = await kilnCli('token', 'list');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${id}\\s+bob\\s+default=writer,risk=reader`));
    assert.ok(!listed.stdout.includes(secret));
    const json = JSON.parse((await kilnCli('token', 'list', '--json')).stdout) as { tokens: Array<{ id: string }> };
    assert.ok(json.tokens.some((t) => t.id === id));
    // As bob: a writer may not list tokens (exit 11), nor may a bad token (exit 10).
    adminSecret = secret;
    assert.equal((await kilnCli('token', 'list')).code, 11);
    adminSecret = 'kiln_nope';
    assert.equal((await kilnCli('list')).code, 10);
    adminSecret = (await createToken(admin, 'cli admin 2', [{ namespace: '*', role: 'admin' }])).secret;
    const revoked = await kilnCli('token', 'revoke', id);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`revoked ${id} \\(bob\\)`));
  });
});

test('every RPC of every kiln.v1 service has a policy entry', () => {
  const policies: Record<string, object> = { Registry: REGISTRY_POLICY, Builder: BUILDER_POLICY, Inference: INFERENCE_POLICY };
  const v1 = kilnProto().kiln.v1 as unknown as Record<string, { service?: Record<string, unknown> }>;
  const methods = (ctor: { service?: Record<string, unknown> }) => Object.keys(ctor.service ?? {});
  const services = Object.entries(v1).filter(([, v]) => (v as unknown) instanceof Function && methods(v).length > 0);
  assert.deepEqual(services.map(([n]) => n).sort(), Object.keys(policies).sort(), 'a policy for every service');
  for (const [name, ctor] of services) {
    assert.deepEqual(Object.keys(policies[name]).sort(), methods(ctor).map((m) => `kiln.v1.${name}/${m}`).sort(), name);
  }
});

describe('secure by default', () => {
  const base = { KILN_DATA_DIR: '/tmp/kiln-auth-refusal', KILN_LOG_LEVEL: 'silent' };
  for (const [name, start, setting] of [
    ['registry', startRegistry, 'KILN_REGISTRY_LISTEN'],
    ['builder', startBuilder, 'KILN_BUILDER_LISTEN'],
    ['inference', startInference, 'KILN_INFERENCE_LISTEN'],
  ] as const) {
    test(`the ${name} refuses to start on a non-loopback address with no authentication, naming the settings`, async () => {
      const config = configFrom({ ...base, [setting]: '0.0.0.0:0', DATABASE_URL: '' });
      await assert.rejects((start as (c: typeof config, l: typeof log) => Promise<unknown>)(config, log),
        (err: Error) => err.message.includes(`${setting}=0.0.0.0:0`) && /KILN_ADMIN_TOKEN/.test(err.message) && /KILN_AUTH=none/.test(err.message));
    });
  }

  test('KILN_AUTH=none serves off loopback; authentication on without KILN_SERVICE_TOKEN refuses to start', async () => {
    const open = await startInference(configFrom({ ...base, KILN_INFERENCE_LISTEN: '0.0.0.0:0', KILN_AUTH: 'none' }), log);
    await open.stop();
    await assert.rejects(startInference(configFrom({ ...base, KILN_AUTH: 'on' }), log), /KILN_SERVICE_TOKEN is not set/);
  });
});

describe('OIDC tokens on a live registry', () => {
  // A provider's JWKS served on loopback; its tokens' groups claim maps to roles (KILN_OIDC_ROLES).
  let kiln: RunningKiln;
  let jwks: http.Server;
  let sign: (claims: Record<string, unknown>, expires?: string | number) => Promise<string>;
  const ISSUER = 'https://idp.test.example';
  const clients: RegistryClient[] = [];
  const client = (token: string) => {
    const c = clientWith(kiln.registry, token);
    clients.push(c);
    return c;
  };

  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwks = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    sign = (claims, expires = '5m') => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(ISSUER)
      .setAudience('kiln').setSubject('alice@example.com').setExpirationTime(expires).sign(privateKey);
    kiln = await startKiln({
      env: {
        KILN_SERVICE_TOKEN: SERVICE,
        KILN_OIDC_ISSUER: ISSUER,
        KILN_OIDC_AUDIENCE: 'kiln',
        KILN_OIDC_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`,
        KILN_OIDC_ROLES: 'groups:team-fraud=writer@fraud',
      },
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await kiln?.stop();
    await new Promise((r) => jwks?.close(r));
  });

  test('a provider\'s token acts with the roles its claims map to; a forged or expired one is UNAUTHENTICATED', async () => {
    const writer = client(await sign({ groups: ['team-fraud'] }));
    const files = [{ path: 'model.bin', content: 'weights' }];
    assert.equal((await uploadModel(writer, 'fraud/scorer', files)).model, 'fraud/scorer');
    const elsewhere = await statusOf(uploadModel(writer, 'risk/scorer', files));
    assert.equal(elsewhere.code, 'PERMISSION_DENIED');
    assert.match(elsewhere.details, /writer/);
    assert.match(elsewhere.details, /risk/);
    // A valid token whose claims map to no role is someone, with no right.
    const nobody = await statusOf(promiseClient(client(await sign({ groups: ['other'] }))).GetModelVersion({ model: 'fraud/scorer', version: 1 }));
    assert.equal(nobody.code, 'PERMISSION_DENIED');
    const [header, payload] = (await sign({ groups: ['team-fraud'] })).split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), groups: ['ml-platform'] })).toString('base64url')}.${'A'.repeat(86)}`;
    assert.equal((await statusOf(promiseClient(client(forged)).GetModelVersion({ model: 'fraud/scorer', version: 1 }))).code, 'UNAUTHENTICATED');
    const expired = await sign({ groups: ['team-fraud'] }, Math.floor(Date.now() / 1000) - 3600);
    assert.equal((await statusOf(promiseClient(client(expired)).GetModelVersion({ model: 'fraud/scorer', version: 1 }))).code, 'UNAUTHENTICATED');
  });
});
