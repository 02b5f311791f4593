// Webhooks' rules without servers: which URLs and addresses the SSRF guard allows, the CloudEvent a delivery is,
// its signature (checked with the recipe the README gives receivers), and the retries' backoff and disabling.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { describe, it } from 'node:test';
import { isKilnError } from '@kiln/errors';
import type { RegistryEventRecord } from './store';
import {
  addressRefusal, afterFailure, checkWebhookUrl, cloudEvent, CLOUD_EVENT_TYPES, isPublicAddress, newWebhookId, parseAllowList, retryDelayMs,
  shownUrl, signatureHeader, validateSecret,
} from './webhooks';

const allow = parseAllowList(['hooks.example.com', '*.corp.example', '203.0.113.7', '10.1.2.0/24', 'fd00::/8']);
const refusedUrl = (url: string) => {
  try {
    checkWebhookUrl(url, allow, 'CreateWebhookRequest.url');
    return '';
  } catch (err) {
    assert.ok(isKilnError(err) && err.code === 'INVALID_ARGUMENT' && err.location === 'CreateWebhookRequest.url', String(err));
    return err.message;
  }
};

describe('webhook URLs (at CreateWebhook)', () => {
  it('allows loopback hosts without the list, and listed names, subdomains of a *. pattern, addresses and ranges', () => {
    for (const url of [
      'http://127.0.0.1:8080/hook', 'http://127.9.9.9/', 'http://[::1]:9/x', 'http://localhost:3000/', 'https://LOCALHOST./',
      'http://0x7f.1/', // the WHATWG parser makes it 127.0.0.1
      'https://hooks.example.com/kiln?team=a', 'https://a.corp.example/', 'https://a.b.corp.example:8443/', 'http://203.0.113.7/', 'http://10.1.2.200/',
      'http://[fd12::1]/',
    ]) assert.equal(refusedUrl(url), '', url);
  });

  it('refuses other hosts naming KILN_WEBHOOK_ALLOWED_HOSTS, and what is not an http(s) URL without credentials', () => {
    for (const url of ['http://10.0.0.5/', 'http://169.254.169.254/latest/meta-data', 'https://example.com/', 'https://corp.example/', 'https://evil-hooks.example.com/',
      'https://hooks.example.com.evil.test/', 'http://[fe80::1]/', 'http://192.168.1.1/', 'http://10.1.3.1/']) {
      assert.match(refusedUrl(url), /not a loopback host and not in KILN_WEBHOOK_ALLOWED_HOSTS/, url);
    }
    assert.match(refusedUrl('ftp://127.0.0.1/'), /http or https only/);
    assert.match(refusedUrl('file:///etc/passwd'), /http or https only/);
    assert.match(refusedUrl('http://user:pw@127.0.0.1/'), /credentials/);
    assert.match(refusedUrl('not a url'), /is not a URL/);
    assert.match(refusedUrl(''), /give the URL/);
    assert.match(refusedUrl(`http://127.0.0.1/${'a'.repeat(3000)}`), /at most 2048/);
  });

  it('refuses a bad entry in the list, naming the setting', () => {
    for (const bad of ['http://x', 'a b', '10.0.0.0/40', '*.']) assert.throws(() => parseAllowList([bad]), /KILN_WEBHOOK_ALLOWED_HOSTS/, bad);
  });

  it('shows a URL without its query, which may carry a receiver\'s token', () => {
    assert.equal(shownUrl('https://hooks.example.com/k?token=secret'), 'https://hooks.example.com/k?…');
    assert.equal(shownUrl('http://127.0.0.1:9/k'), 'http://127.0.0.1:9/k');
  });
});

describe('webhook addresses (at each connection, after resolution)', () => {
  it('lets a listed name reach public addresses only, unless the list names the internal address or its range', () => {
    assert.equal(addressRefusal('hooks.example.com', '93.184.216.34', allow), undefined);
    for (const internal of ['10.0.0.5', '127.0.0.1', '169.254.169.254', '192.168.0.1', '172.20.0.1', '100.64.0.1', '::1', 'fe80::1', '::ffff:10.0.0.5', '0.0.0.0']) {
      assert.match(addressRefusal('hooks.example.com', internal, allow) ?? '', /not a public address/, internal);
    }
    assert.equal(addressRefusal('a.corp.example', '10.1.2.3', allow), undefined, 'the range is listed');
    assert.equal(addressRefusal('a.corp.example', 'fd00::5', allow), undefined);
  });

  it('lets localhost reach loopback only, and a loopback literal itself', () => {
    assert.equal(addressRefusal('localhost', '127.0.0.1', allow), undefined);
    assert.equal(addressRefusal('localhost', '::1', allow), undefined);
    assert.match(addressRefusal('localhost', '10.0.0.1', allow) ?? '', /not a loopback address/);
    assert.equal(addressRefusal('127.0.0.1', '127.0.0.1', allow), undefined);
  });

  it('refuses a host taken off the list since the webhook was made', () => {
    assert.match(addressRefusal('hooks.example.com', '93.184.216.34', parseAllowList([])) ?? '', /not in KILN_WEBHOOK_ALLOWED_HOSTS/);
  });

  it('tells public addresses from the rest', () => {
    assert.deepEqual(['8.8.8.8', '2606:4700::1111', '10.0.0.1', 'fc00::1', '224.0.0.1', 'not an ip'].map(isPublicAddress), [true, true, false, false, false, false]);
  });
});

const event = (over: Partial<RegistryEventRecord> = {}): RegistryEventRecord => ({
  id: 42, time: new Date('2026-12-06T10:00:00.123Z'), kind: 'VERSION_RELEASED', model: 'fraud/scorer', namespace: 'fraud', version: 3, alias: '',
  previousVersion: 0, caller: 'service:builder', details: { image: 'r/kiln/fraud/scorer:3@sha256:ab' }, ...over,
});

describe('webhook deliveries', () => {
  it('are CloudEvents 1.0: the event id, a type per kind, the subject as the CLI names it, the event as proto3 JSON', () => {
    assert.deepEqual(cloudEvent(event(), 'kiln://test'), {
      specversion: '1.0', id: '42', source: 'kiln://test', type: 'dev.kiln.model.version.released', subject: 'fraud/scorer:3',
      time: '2026-12-06T10:00:00.123Z', datacontenttype: 'application/json',
      data: {
        resumeToken: 'eyJrIjo0Mn0', time: '2026-12-06T10:00:00.123Z', kind: 'EVENT_KIND_VERSION_RELEASED', model: 'fraud/scorer', namespace: 'fraud',
        version: '3', caller: 'service:builder', image: 'r/kiln/fraud/scorer:3@sha256:ab',
      },
    });
    const moved = cloudEvent(event({ kind: 'ALIAS_MOVED', alias: 'production', previousVersion: 2 }), 'kiln://test');
    assert.deepEqual([moved.type, moved.subject, (moved.data as { previousVersion: string }).previousVersion], ['dev.kiln.model.alias.moved', 'fraud/scorer@production', '2']);
    assert.equal(new Set(Object.values(CLOUD_EVENT_TYPES)).size, Object.keys(CLOUD_EVENT_TYPES).length, 'one type per kind');
  });

  it('are signed: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">, which the README\'s recipe verifies', () => {
    const secret = 'a'.repeat(32);
    const body = JSON.stringify(cloudEvent(event(), 'kiln://test'));
    const header = signatureHeader(secret, body, 1765015200);
    assert.match(header, /^t=1765015200,v1=[0-9a-f]{64}$/);
    // The README's recipe.
    const verify = (h: string, raw: string, key: string, now: number) => {
      const parts = Object.fromEntries(h.split(',').map((p) => p.split('=') as [string, string]));
      const expected = createHmac('sha256', key).update(`${parts.t}.${raw}`).digest();
      const given = Buffer.from(parts.v1 ?? '', 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected) && Math.abs(now - Number(parts.t)) < 300;
    };
    assert.equal(verify(header, body, secret, 1765015200 + 10), true);
    assert.equal(verify(header, body.replace('"3"', '"4"'), secret, 1765015200), false, 'a changed body');
    assert.equal(verify(header, body, 'b'.repeat(32), 1765015200), false, 'another key');
    assert.equal(verify(header.replace('t=1765015200', 't=1765015201'), body, secret, 1765015200), false, 'the time is signed');
    assert.equal(verify(header, body, secret, 1765015200 + 3600), false, 'too old: a replay');
  });

  it('back off doubling from the base delay up to the cap, and disable the webhook at the limit, saying why', () => {
    const settings = { retryDelayMs: 1000, retryMaxDelayMs: 300_000, disableAfter: 10 };
    assert.deepEqual([1, 2, 3, 4, 9, 10, 50, 5000].map((n) => retryDelayMs(n, settings)), [1000, 2000, 4000, 8000, 256_000, 300_000, 300_000, 300_000]);
    assert.deepEqual(afterFailure(3, 7, 'HTTP 500', settings), { failures: 3, retryInMs: 4000, disabledReason: '' });
    assert.equal(afterFailure(10, 7, 'HTTP 500: busy', settings).disabledReason, 'disabled after 10 failed attempts in a row delivering event 7; the last: HTTP 500: busy');
  });

  it('need a secret of at least 32 characters, and webhook ids are time-ordered', () => {
    assert.throws(() => validateSecret('short', 'CreateWebhookRequest.secret'), /at least 32/);
    assert.equal(validateSecret('x'.repeat(32), 'w'), 'x'.repeat(32));
    assert.ok(newWebhookId(1_000) < newWebhookId(2_000) && newWebhookId(2_000) < newWebhookId(1e13));
    assert.match(newWebhookId(), /^wh_[0-9a-z]{9}[0-9a-f]{16}$/);
  });
});
