// The webhook dispatcher on the in-memory store against a receiver on loopback: events in id order with their
// signature, non-matching ones skipped, a 500 redelivered (same id) after its backoff with later events waiting,
// disabling after repeated failures and resuming, and the SSRF guard refusing before any connection.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it, mock } from 'node:test';
import { createLogger } from '@kiln/log';
import { MemoryStore } from './store/memory';
import type { EventKind, NewRegistryEvent } from './store';
import { postWebhook, WebhookDispatcher } from './webhook-dispatcher';
import { parseAllowList } from './webhooks';

const SECRET = 'unit-test-secret-of-at-least-32-chars';
const log = createLogger('webhook-dispatcher-test', 'silent');

interface Received {
  id: string;
  type: string;
  subject: string;
  signatureValid: boolean;
  attempt: string;
}

describe('the webhook dispatcher', () => {
  const store = new MemoryStore();
  let answer: (r: Received) => number = () => 200;
  const received: Received[] = [];
  let server: http.Server;
  let url = '';
  const tail = {
    position: 0,
    next: (_after: number, signal: AbortSignal) => new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    }),
  };
  const settings = { allowedHosts: [], timeoutMs: 2000, retryDelayMs: 50, retryMaxDelayMs: 200, disableAfter: 4, leaseMs: 5000, source: 'kiln://unit' };
  const dispatcher = new WebhookDispatcher({ store, tail, log, settings, allowList: parseAllowList([]), pollMs: 20 });

  const record = async (model: string, kind: EventKind = 'LABELS_CHANGED', version = 1) => {
    const e: NewRegistryEvent = { kind, model, namespace: model.includes('/') ? model.split('/')[0] : 'default', version, alias: '', previousVersion: 0, caller: 'c', details: {} };
    await store.inTransaction((tx) => tx.recordEvent(e));
    tail.position = await store.lastEventId();
    return tail.position;
  };
  const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 5000) => {
    const start = Date.now();
    while (!(await check())) {
      if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}: received ${JSON.stringify(received.map((r) => [r.id, r.attempt]))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const [t, v1] = String(req.headers['kiln-signature']).split(',').map((p) => p.split('=')[1]);
        const ce = JSON.parse(body);
        const r: Received = {
          id: ce.id, type: ce.type, subject: ce.subject, attempt: String(req.headers['kiln-delivery-attempt']),
          signatureValid: createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex') === v1 && req.headers['content-type'] === 'application/cloudevents+json',
        };
        received.push(r);
        res.writeHead(answer(r)).end('receiver says no');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    dispatcher.start();
  });
  after(async () => {
    await dispatcher.stop();
    server.close();
  });

  it('delivers the matching events one at a time in id order, signed, and skips the others', async () => {
    await record('before/m'); // before the webhook: never sent
    const w = await store.createWebhook({ id: 'wh_order', url, namespace: 'shop', model: '', kinds: ['LABELS_CHANGED', 'VERSION_CREATED'], secret: SECRET, createdBy: 'c' });
    const ids: number[] = [];
    for (let i = 1; i <= 5; i++) {
      ids.push(await record(i % 2 ? 'shop/a' : 'shop/b', 'LABELS_CHANGED', i));
      await record('other/m'); // another namespace
      await record('shop/a', 'ALIAS_SET'); // another kind
    }
    await until('five deliveries', () => received.length >= 5);
    await until('the cursor at the end', async () => (await store.getWebhook(w.id))!.cursor === tail.position);
    assert.deepEqual(received.map((r) => r.id), ids.map(String));
    assert.ok(received.every((r) => r.signatureValid && r.attempt === '1' && r.type === 'dev.kiln.model.version.labels_changed'));
    assert.deepEqual(received.map((r) => r.subject), ['shop/a:1', 'shop/b:2', 'shop/a:3', 'shop/b:4', 'shop/a:5']);
    const log = await store.listWebhookDeliveries({ webhookId: w.id, pageSize: 10 });
    assert.ok(log.length === 5 && log.every((d) => d.delivered && d.statusCode === 200 && d.finished));
    await store.deleteWebhook(w.id);
  });

  it('redelivers an event answered 500 with the same id after its backoff, the next events waiting behind it', async () => {
    received.length = 0;
    const w = await store.createWebhook({ id: 'wh_retry', url, namespace: '', model: 'retry/m', kinds: [], secret: SECRET, createdBy: 'c' });
    let failing = 2;
    answer = () => (failing-- > 0 ? 500 : 200);
    const first = await record('retry/m');
    const second = await record('retry/m');
    await until('four deliveries', () => received.length >= 4);
    assert.deepEqual(received.map((r) => [r.id, r.attempt]), [[String(first), '1'], [String(first), '2'], [String(first), '3'], [String(second), '1']]);
    // The receiver has the last attempt before the dispatcher logs its end.
    await until('four ended attempts', async () => (await store.listWebhookDeliveries({ webhookId: w.id, pageSize: 10 })).filter((d) => d.finished).length === 4);
    const attempts = (await store.listWebhookDeliveries({ webhookId: w.id, pageSize: 10 })).reverse();
    assert.deepEqual(attempts.map((d) => [d.eventId, d.attempt, d.statusCode, d.delivered]), [[first, 1, 500, false], [first, 2, 500, false], [first, 3, 200, true], [second, 1, 200, true]]);
    assert.equal(attempts[0].error, 'HTTP 500: receiver says no');
    assert.equal((await store.getWebhook(w.id))!.failures, 0);
    await store.deleteWebhook(w.id);
  });

  it('disables a webhook after repeated failures, with the reason, and resumes from the failed event once enabled', async () => {
    received.length = 0;
    answer = () => 503;
    const w = await store.createWebhook({ id: 'wh_disable', url, namespace: '', model: 'disable/m', kinds: [], secret: SECRET, createdBy: 'c' });
    const first = await record('disable/m');
    await until('disabled', async () => (await store.getWebhook(w.id))!.disabled);
    const disabled = (await store.getWebhook(w.id))!;
    assert.equal(disabled.disabledReason, `disabled after 4 failed attempts in a row delivering event ${first}; the last: HTTP 503: receiver says no`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(received.length, 4, 'no attempt once disabled');
    answer = () => 200;
    const second = await record('disable/m');
    await store.enableWebhook(w.id);
    await until('both delivered', () => received.length >= 6);
    assert.deepEqual(received.slice(4).map((r) => r.id), [String(first), String(second)]);
    await store.deleteWebhook(w.id);
  });

  it('refuses, before connecting, an address the allow-list does not cover: a literal, and a listed name resolving inside', async () => {
    const none = parseAllowList(['hooks.example.com']);
    const signal = new AbortController().signal;
    const literal = await postWebhook(new URL('http://10.255.255.1/'), '{}', {}, none, 1000, signal);
    assert.deepEqual([literal.statusCode, literal.error], [0, 'refused: 10.255.255.1 is not a loopback host and not in KILN_WEBHOOK_ALLOWED_HOSTS: the registry only delivers to hosts its operator allowed']);
    const lookup = mock.method(dns, 'lookup', (_host: string, _options: unknown, callback: (err: null, a: dns.LookupAddress[]) => void) => callback(null, [{ address: '10.0.0.5', family: 4 }]));
    try {
      const rebound = await postWebhook(new URL('http://hooks.example.com/'), '{}', {}, none, 1000, signal);
      assert.equal(rebound.error, 'refused: hooks.example.com resolves to 10.0.0.5, which is not a public address and not in KILN_WEBHOOK_ALLOWED_HOSTS (list the address or its range to allow it)');
      assert.equal(lookup.mock.callCount(), 1);
    } finally {
      lookup.mock.restore();
    }
  });
});
