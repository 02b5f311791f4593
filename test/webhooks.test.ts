// Webhooks end to end, on the real Postgres, with a receiver on loopback (node:http) that checks every delivery's
// signature as the README tells receivers to: events arrive as CloudEvents in event order (so in order per model)
// across several models, filtered; an event answered 500 comes again with the same id; a webhook that keeps failing
// is disabled with the reason and resumes from the failed event; CreateWebhook refuses hosts off the allow-list;
// and an event in flight when the registry is killed is delivered again by the restarted registry, nothing lost.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { registryClient, type RegistryClient } from '@kiln/api';
import { promiseClient, type RegistryPromiseClient } from '@kiln/api/client';
import { startKiln, uploadModel, waitForBuild, type RunningKiln } from './helpers/services';
import path from 'node:path';
import { execute, REPO_ROOT, startKilnProcess, type KilnProcess } from './helpers/kiln-process';
import { emptyS3Prefix } from './helpers/test-config';

const SECRET = 'receiver-secret-0123456789abcdef-0123456789';

/** The README's recipe: the HMAC-SHA256 of "<t>.<raw body>", compared in constant time, and a recent t. */
function verifySignature(header: string | undefined, rawBody: string, secret: string, nowSeconds = Date.now() / 1000): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=', 2) as [string, string]));
  const expected = createHmac('sha256', secret).update(`${parts.t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) && Math.abs(nowSeconds - Number(parts.t)) < 300;
}

interface Delivery {
  webhookId: string;
  attempt: number;
  signed: boolean;
  contentType: string;
  event: { specversion: string; id: string; source: string; type: string; subject: string; time: string; datacontenttype: string; data: Record<string, unknown> };
}

/** A webhook receiver on loopback: records each delivery, answers what `respond` says (or holds the request open). */
class Receiver {
  readonly deliveries: Delivery[] = [];
  respond: (d: Delivery) => number | 'hold' = () => 200;
  private readonly held: http.ServerResponse[] = [];
  private server?: http.Server;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const d: Delivery = {
          webhookId: String(req.headers['kiln-webhook-id']),
          attempt: Number(req.headers['kiln-delivery-attempt']),
          signed: verifySignature(req.headers['kiln-signature'] as string | undefined, raw, SECRET),
          contentType: String(req.headers['content-type']),
          event: JSON.parse(raw),
        };
        this.deliveries.push(d);
        const answer = this.respond(d);
        if (answer === 'hold') this.held.push(res);
        else res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer >= 300 ? 'the receiver is down' : 'ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/kiln`;
  }

  of(webhookId: string): Delivery[] {
    return this.deliveries.filter((d) => d.webhookId === webhookId);
  }

  async until(webhookId: string, count: number, timeoutMs = 30_000): Promise<Delivery[]> {
    const start = Date.now();
    while (this.of(webhookId).length < count) {
      if (Date.now() - start > timeoutMs) {
        throw new Error(`${this.of(webhookId).length} of ${count} deliveries to ${webhookId} after ${timeoutMs} ms: ${JSON.stringify(this.of(webhookId).map(summary))}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.of(webhookId);
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const summary = (d: Delivery) => [d.event.id, d.attempt, d.event.type.replace('dev.kiln.model.', ''), d.event.subject];

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A webhook's attempts once `count` of them have ended (a receiver has an attempt before the registry logs its end). */
async function endedAttempts(api: RegistryPromiseClient, webhookId: string, count: number) {
  return until(`${count} ended attempts of ${webhookId}`, async () => {
    const { deliveries } = await api.ListWebhookDeliveries({ webhookId });
    return deliveries.length >= count && deliveries.every((d) => d.finished) && deliveries;
  });
}

const codeOf = (err: { code?: number; details?: string }) => ({ code: err.code, details: err.details ?? '' });

describe('webhooks', () => {
  let kiln: RunningKiln;
  let api: RegistryPromiseClient;
  const receiver = new Receiver();

  before(async () => {
    await receiver.start();
    kiln = await startKiln({
      env: {
        KILN_WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com',
        KILN_WEBHOOK_RETRY_DELAY_SECONDS: '1',
        KILN_WEBHOOK_DISABLE_AFTER: '3',
      },
    });
    api = promiseClient(kiln.client);
  });
  after(async () => {
    await kiln?.stop();
    await receiver.stop();
  });

  test('deliveries are signed CloudEvents in event order, so in order per model across several models, filtered by namespace, model and kind', async () => {
    const everything = await api.CreateWebhook({ url: receiver.url, namespace: 'hooks', secret: SECRET });
    assert.deepEqual([everything.namespace, everything.disabled, everything.url], ['hooks', false, receiver.url]);
    const releasesOfB = await api.CreateWebhook({ url: `${receiver.url}?only=b`, model: 'hooks/b', kinds: ['EVENT_KIND_VERSION_RELEASED'], secret: SECRET });
    // Another namespace's events: never sent to the namespace's webhook (they would come in order, before the rest).
    await uploadModel(kiln.client, 'elsewhere/x', [{ path: 'model.bin', content: 'elsewhere' }]);
    const models = ['hooks/a', 'hooks/b', 'hooks/c'];
    await Promise.all(models.map(async (model) => {
      const v = await uploadModel(kiln.client, model, [{ path: 'model.bin', content: `weights of ${model}` }]);
      assert.equal((await waitForBuild(kiln.client, model, Number(v.version))).version.status, 'MODEL_VERSION_STATUS_RELEASED');
      await api.UpdateModelVersion({ model, version: v.version, setLabels: { stage: 'tested' } });
    }));

    const delivered = await receiver.until(everything.id, 9);
    assert.ok(delivered.every((d) => d.signed), 'every signature verifies');
    assert.ok(delivered.every((d) => d.contentType === 'application/cloudevents+json' && d.attempt === 1));
    const ids = delivered.map((d) => Number(d.event.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'in event-id order');
    assert.equal(new Set(ids).size, ids.length, 'each once');
    for (const model of models) {
      assert.deepEqual(delivered.filter((d) => d.event.data.model === model).map((d) => [d.event.type, d.event.subject]), [
        ['dev.kiln.model.version.created', `${model}:1`],
        ['dev.kiln.model.version.released', `${model}:1`],
        ['dev.kiln.model.version.labels_changed', `${model}:1`],
      ], model);
    }
    assert.ok(!delivered.some((d) => String(d.event.data.model).startsWith('elsewhere/')), 'filtered by namespace');
    const released = delivered.find((d) => d.event.type === 'dev.kiln.model.version.released')!.event;
    assert.deepEqual(
      [released.specversion, released.source, released.datacontenttype, released.data.kind, released.data.namespace, released.data.version],
      ['1.0', 'kiln://registry', 'application/json', 'EVENT_KIND_VERSION_RELEASED', 'hooks', '1'],
    );
    assert.ok(Math.abs(Date.parse(released.time) - Date.now()) < 120_000);
    assert.match(String(released.data.resumeToken), /^[A-Za-z0-9_-]+$/);

    const onlyB = await receiver.until(releasesOfB.id, 1);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(receiver.of(releasesOfB.id).map((d) => [d.event.type, d.event.subject]), [['dev.kiln.model.version.released', 'hooks/b:1']], 'filtered by model and kind');
    assert.equal(onlyB[0].event.id, delivered.find((d) => d.event.subject === 'hooks/b:1' && d.event.type.endsWith('released'))!.event.id, 'the same event, the same id');

    const listed = (await api.ListWebhooks({})).webhooks.find((w) => w.id === everything.id)!;
    assert.ok(listed.lastDeliveryTime, 'last delivery time');
    await api.DeleteWebhook({ id: everything.id });
    await api.DeleteWebhook({ id: releasesOfB.id });
  });

  test('an event the receiver answers 500 comes again with the same id after a backoff, the next waiting behind it; ListWebhookDeliveries shows every attempt', async () => {
    const hook = await api.CreateWebhook({ url: receiver.url, model: 'hooks/a', kinds: ['EVENT_KIND_LABELS_CHANGED'], secret: SECRET });
    let failures = 2;
    receiver.respond = (d) => (d.webhookId === hook.id && failures-- > 0 ? 500 : 200);
    await api.UpdateModelVersion({ model: 'hooks/a', version: 1, setLabels: { retry: 'one' } });
    await api.UpdateModelVersion({ model: 'hooks/a', version: 1, setLabels: { retry: 'two' } });
    const got = await receiver.until(hook.id, 4);
    const [first, second] = [got[0].event.id, got[3].event.id];
    assert.deepEqual(got.map((d) => [d.event.id, d.attempt]), [[first, 1], [first, 2], [first, 3], [second, 1]]);
    assert.ok(Number(second) > Number(first));
    assert.deepEqual([got[0].event.data.labels, got[3].event.data.labels], [{ stage: 'tested', retry: 'one' }, { stage: 'tested', retry: 'two' }]);
    assert.ok(got.every((d) => d.signed));
    const deliveries = await endedAttempts(api, hook.id, 4);
    assert.deepEqual(deliveries.map((d) => [d.eventId, d.attempt, d.statusCode, d.delivered, d.error, d.kind, d.model]), [
      [second, 1, 200, true, '', 'EVENT_KIND_LABELS_CHANGED', 'hooks/a'],
      [first, 3, 200, true, '', 'EVENT_KIND_LABELS_CHANGED', 'hooks/a'],
      [first, 2, 500, false, 'HTTP 500: the receiver is down', 'EVENT_KIND_LABELS_CHANGED', 'hooks/a'],
      [first, 1, 500, false, 'HTTP 500: the receiver is down', 'EVENT_KIND_LABELS_CHANGED', 'hooks/a'],
    ], 'newest first');
    // The backoff: the second attempt 1 s after the first, the third 2 s after the second.
    const times = deliveries.map((d) => Number(d.time!.seconds) * 1000 + d.time!.nanos / 1e6).reverse();
    assert.ok(times[1] - times[0] >= 900 && times[2] - times[1] >= 1900, `attempts at ${times.map((t) => t - times[0]).join(', ')} ms`);
    assert.ok(deliveries.every((d) => Number(d.durationMs) >= 0 && d.resumeToken));
    const page = await api.ListWebhookDeliveries({ webhookId: hook.id, pageSize: 3 });
    assert.deepEqual((await api.ListWebhookDeliveries({ webhookId: hook.id, pageToken: page.nextPageToken })).deliveries.map((d) => d.attempt), [1]);
    const now = (await api.ListWebhooks({})).webhooks.find((w) => w.id === hook.id)!;
    assert.deepEqual([now.consecutiveFailures, now.disabled, now.nextAttemptTime], [0, false, null]);
    await api.DeleteWebhook({ id: hook.id });
    receiver.respond = () => 200;
  });

  test('a webhook that keeps failing is disabled with the reason, and EnableWebhook resumes it from the event it failed on', async () => {
    const hook = await api.CreateWebhook({ url: receiver.url, model: 'hooks/c', secret: SECRET });
    let down = true;
    receiver.respond = (d) => (d.webhookId === hook.id && down ? 503 : 200);
    await api.UpdateModelVersion({ model: 'hooks/c', version: 1, setLabels: { phase: 'failing' } });
    const disabled = await until('the webhook disabled', async () =>
      (await api.ListWebhooks({})).webhooks.find((w) => w.id === hook.id && w.disabled));
    const failedOn = receiver.of(hook.id)[0].event.id;
    assert.equal(disabled.disabledReason, `disabled after 3 failed attempts in a row delivering event ${failedOn}; the last: HTTP 503: the receiver is down`);
    assert.ok(disabled.disableTime);
    assert.equal(disabled.consecutiveFailures, 3);
    await api.UpdateModelVersion({ model: 'hooks/c', version: 1, setLabels: { phase: 'while disabled' } });
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(receiver.of(hook.id).map((d) => [d.event.id, d.attempt]), [[failedOn, 1], [failedOn, 2], [failedOn, 3]], 'nothing while disabled');

    down = false;
    const enabled = await api.EnableWebhook({ id: hook.id });
    assert.deepEqual([enabled.disabled, enabled.disabledReason, enabled.consecutiveFailures], [false, '', 0]);
    const got = await receiver.until(hook.id, 5);
    assert.deepEqual(got.slice(3).map((d) => [d.event.id, d.attempt, (d.event.data.labels as Record<string, string>).phase]), [
      [failedOn, 4, 'failing'], [got[4].event.id, 1, 'while disabled'],
    ], 'the failed event first, then the one that waited');
    assert.ok(Number(got[4].event.id) > Number(failedOn));
    await api.DeleteWebhook({ id: hook.id });
    receiver.respond = () => 200;
  });

  test('CreateWebhook refuses hosts that are not loopback nor on KILN_WEBHOOK_ALLOWED_HOSTS, short secrets and bad filters; secrets are never returned; changes are audited', async () => {
    const refused = async (request: Parameters<RegistryPromiseClient['CreateWebhook']>[0]) => codeOf(await api.CreateWebhook(request).then(() => ({}), (e) => e));
    const denied = await refused({ url: 'http://10.0.0.1:8080/hook', secret: SECRET });
    assert.equal(denied.code, 3);
    assert.match(denied.details, /10\.0\.0\.1 is not a loopback host and not in KILN_WEBHOOK_ALLOWED_HOSTS/);
    assert.match(denied.details, /CreateWebhookRequest\.url/);
    assert.match((await refused({ url: 'http://169.254.169.254/latest', secret: SECRET })).details, /KILN_WEBHOOK_ALLOWED_HOSTS/);
    assert.match((await refused({ url: 'ftp://127.0.0.1/', secret: SECRET })).details, /http or https only/);
    assert.match((await refused({ url: receiver.url, secret: 'too short' })).details, /at least 32/);
    assert.match((await refused({ url: receiver.url, secret: SECRET, kinds: ['EVENT_KIND_UNSPECIFIED'] })).details, /CreateWebhookRequest\.kinds\[0\]/);
    assert.match((await refused({ url: receiver.url, secret: SECRET, namespace: 'risk', model: 'fraud/m' })).details, /not in namespace risk/);

    const allowed = await api.CreateWebhook({ url: 'https://hooks.example.com/kiln?token=t0ps3cret', model: 'nothing/here', secret: SECRET });
    assert.match(allowed.id, /^wh_/);
    assert.ok(!JSON.stringify(allowed).includes(SECRET), 'the secret is not returned');
    assert.ok(!JSON.stringify(await api.ListWebhooks({})).includes(SECRET), 'nor listed');
    assert.equal((await api.DeleteWebhook({ id: allowed.id })).id, allowed.id);
    assert.equal(codeOf(await api.DeleteWebhook({ id: allowed.id }).catch((e) => e)).code, 5);
    assert.equal(codeOf(await api.EnableWebhook({ id: allowed.id }).catch((e) => e)).code, 5);
    assert.equal(codeOf(await api.ListWebhookDeliveries({ webhookId: allowed.id }).catch((e) => e)).code, 5);

    const audit = (await api.ListAuditEvents({ pageSize: 1000 })).events.filter((e) => /Webhook$/.test(e.rpc));
    const mine = audit.filter((e) => e.message.includes(allowed.id));
    assert.deepEqual(mine.map((e) => [e.rpc, e.result, e.model]), [
      ['kiln.v1.Registry/EnableWebhook', 'NOT_FOUND', ''],
      ['kiln.v1.Registry/DeleteWebhook', 'NOT_FOUND', ''],
      ['kiln.v1.Registry/DeleteWebhook', 'OK', 'nothing/here'],
      ['kiln.v1.Registry/CreateWebhook', 'OK', 'nothing/here'],
    ], 'each change, and each failed one');
    assert.match(mine[3].message, /^created webhook wh_\w+ to https:\/\/hooks\.example\.com\/kiln\?… for model nothing\/here, every kind$/);
    assert.ok(audit.some((e) => e.rpc === 'kiln.v1.Registry/CreateWebhook' && e.result === 'INVALID_ARGUMENT'), 'refusals are audited');
    assert.ok(!JSON.stringify(audit).includes(SECRET) && !JSON.stringify(audit).includes('t0ps3cret'), 'no secret in the audit trail');
  });

  test('kiln webhook create, list, deliveries, enable and delete', async () => {
    const kilnCli = (args: string[], env: Record<string, string> = {}) =>
      execute(path.join(REPO_ROOT, 'cli/bin/kiln'), args, { ...process.env, KILN_ADDRESS: kiln.registry, ...env });
    const noSecret = await kilnCli(['webhook', 'create', '--url', receiver.url]);
    assert.notEqual(noSecret.code, 0);
    assert.match(noSecret.stderr, /--secret-file or KILN_WEBHOOK_SECRET/);
    assert.match((await kilnCli(['webhook', 'create', '--url', receiver.url, '--kind', 'exploded'], { KILN_WEBHOOK_SECRET: SECRET })).stderr, /expected an event kind/);
    const created = await kilnCli(['webhook', 'create', '--url', receiver.url, '--model', 'hooks/b', '--kind', 'labels-changed'], { KILN_WEBHOOK_SECRET: SECRET });
    assert.equal(created.code, 0, created.stderr);
    const id = /created (wh_\w+) to /.exec(created.stdout)![1];
    await api.UpdateModelVersion({ model: 'hooks/b', version: 1, setLabels: { via: 'cli' } });
    await receiver.until(id, 1);
    await endedAttempts(api, id, 1);
    const listed = await kilnCli(['webhook', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${id}\\s+${receiver.url.replace(/[.?]/g, '\\$&')}\\s+hooks/b \\(labels-changed\\)\\s+\\d{4}-\\S+\\s+active`));
    assert.ok(!listed.stdout.includes(SECRET));
    const deliveries = await kilnCli(['webhook', 'deliveries', id]);
    assert.equal(deliveries.code, 0, deliveries.stderr);
    assert.match(deliveries.stdout, /labels-changed\s+hooks\/b\s+1\s+ok 200/);
    assert.match((await kilnCli(['webhook', 'enable', id])).stdout, new RegExp(`enabled ${id}`));
    assert.match((await kilnCli(['webhook', 'delete', id])).stdout, new RegExp(`deleted ${id}`));
    const json = JSON.parse((await kilnCli(['webhook', 'list', '--json'])).stdout) as { webhooks?: Array<{ id: string }> };
    assert.ok(!(json.webhooks ?? []).some((w) => w.id === id));
  });
});

describe('webhooks across a registry killed mid-delivery', () => {
  const receiver = new Receiver();
  const s3Prefix = `proc/webhooks-${Date.now().toString(36)}/`;
  const env = { KILN_WEBHOOK_LEASE_SECONDS: '2', KILN_WEBHOOK_RETRY_DELAY_SECONDS: '1' };
  let first: KilnProcess | undefined;
  let second: KilnProcess | undefined;
  const clients: RegistryClient[] = [];
  const connect = (address: string) => {
    const c = registryClient(address);
    clients.push(c);
    return c;
  };

  before(() => receiver.start());
  after(async () => {
    for (const c of clients) c.close();
    await second?.stop();
    await first?.stop(); // drops the database both used
    await emptyS3Prefix(s3Prefix);
    await receiver.stop();
  });

  test('the event in flight when the registry is killed is delivered again by the restarted registry, with the same id, and nothing after it is lost', async () => {
    first = await startKilnProcess({ env, s3Prefix });
    const client = connect(first.registry);
    const api = promiseClient(client);
    const v = await uploadModel(client, 'kill/m', [{ path: 'model.bin', content: 'killed mid-delivery' }]);
    await waitForBuild(client, 'kill/m', Number(v.version));
    const hook = await api.CreateWebhook({ url: receiver.url, model: 'kill/m', kinds: ['EVENT_KIND_LABELS_CHANGED'], secret: SECRET });
    // The first delivery is held open: the registry is killed while it waits for the answer.
    let hold = true;
    receiver.respond = () => (hold ? 'hold' : 200);
    for (const n of [1, 2, 3]) await api.UpdateModelVersion({ model: 'kill/m', version: 1, setLabels: { n: String(n) } });
    const [inFlight] = await receiver.until(hook.id, 1);
    const running = (await api.ListWebhookDeliveries({ webhookId: hook.id })).deliveries;
    assert.deepEqual(running.map((d) => [d.eventId, d.attempt, d.finished, d.delivered]), [[inFlight.event.id, 1, false, false]], 'logged before it went out');
    await first.kill();
    hold = false;

    second = await startKilnProcess({ env, databaseUrl: first.databaseUrl, s3Prefix });
    const got = await receiver.until(hook.id, 4);
    const labels = (d: Delivery) => (d.event.data.labels as Record<string, string>).n;
    assert.deepEqual(got.map((d) => [d.event.id, d.attempt, labels(d)]), [
      [inFlight.event.id, 1, '1'], [inFlight.event.id, 2, '1'], [got[2].event.id, 1, '2'], [got[3].event.id, 1, '3'],
    ]);
    assert.ok(Number(inFlight.event.id) < Number(got[2].event.id) && Number(got[2].event.id) < Number(got[3].event.id));
    assert.ok(got.every((d) => d.signed));
    const deliveries = await endedAttempts(promiseClient(connect(second.registry)), hook.id, 4);
    assert.deepEqual(deliveries.reverse().map((d) => [d.eventId, d.attempt, d.delivered, d.statusCode]), [
      [inFlight.event.id, 1, false, 0], [inFlight.event.id, 2, true, 200], [got[2].event.id, 1, true, 200], [got[3].event.id, 1, true, 200],
    ]);
    assert.match(deliveries[0].error, /^interrupted: the registry delivering it stopped or lost its lease/);
    assert.ok(deliveries.every((d) => d.finished));
  });
});
