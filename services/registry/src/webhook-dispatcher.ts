// Delivers the registry's events to webhooks: each registry replica claims the webhooks with work due (a lease in the
// webhook's row, renewed while it works, so two replicas never deliver to one webhook at once), and sends each one's
// matching events strictly in event-id order, one at a time, moving its cursor only once the receiver answered 2xx.
// A failure backs off and blocks the events behind it (order first); a crash at any point means the event is sent
// again (at least once: receivers drop the CloudEvent ids they have seen). The rules are webhooks.ts's.
import { randomUUID } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import type { KilnConfig } from '@kiln/config';
import type { Logger } from '@kiln/log';
import type { EventTail } from './event-log';
import type { ClaimedWebhook, RegistryEventRecord, RegistryStore, WebhookAttemptEffect } from './store';
import {
  addressRefusal, afterFailure, CLOUD_EVENT_CONTENT_TYPE, cloudEvent, hostOf, shownUrl, SIGNATURE_HEADER, signatureHeader, type AllowList,
} from './webhooks';

/** Webhooks one replica delivers to at once (each one event at a time). */
const CONCURRENT_WEBHOOKS = 16;
/** Events read per query: a webhook far behind catches up page by page. */
const PAGE = 200;
/** The most of a receiver's refusal kept in the attempt's error. */
const MAX_ANSWER_BYTES = 256;

export interface WebhookDispatcherOptions {
  store: RegistryStore;
  tail: Pick<EventTail, 'position' | 'next'>;
  log: Logger;
  settings: KilnConfig['webhooks'];
  allowList: AllowList;
  /** How often it looks for retries come due and webhooks whose lease lapsed, when no event wakes it. */
  pollMs?: number;
}

export interface PostOutcome {
  /** The receiver's status; 0 when it gave none. */
  statusCode: number;
  /** '' when delivered. */
  error: string;
  durationMs: number;
}

class Refused extends Error {}

/**
 * POSTs one body. Connections go only to addresses webhooks.ts allows, checked after resolution (a name rebound to
 * an internal address is refused, not reached); no redirect is followed; a refusal's body is read up to a few hundred
 * bytes, a success's not at all; the whole attempt ends at `timeoutMs` or when `signal` aborts.
 */
export function postWebhook(
  url: URL, body: string, headers: Record<string, string>, allow: AllowList, timeoutMs: number, signal: AbortSignal,
): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const host = hostOf(url);
  // Node resolves no IP literal (it calls no lookup for one): the literal is the address.
  if (net.isIP(host)) {
    const refused = addressRefusal(host, host, allow);
    if (refused) return Promise.resolve({ statusCode: 0, error: `refused: ${refused}`, durationMs: elapsed() });
  }
  const lookup: net.LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      for (const a of list) {
        const refused = addressRefusal(host, a.address, allow);
        if (refused) return callback(new Refused(refused), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
  const timedOut = AbortSignal.timeout(timeoutMs);
  const stop = AbortSignal.any([signal, timedOut]);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (statusCode: number, error: string) => {
      if (settled) return;
      settled = true;
      resolve({ statusCode, error, durationMs: elapsed() });
    };
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup,
      agent: false,
      signal: stop,
    });
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        settle(status, '');
        response.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        const answer = Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8').replace(/[\u0000-\u001f]+/g, ' ').trim();
        const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
        settle(status, `HTTP ${status}${redirect}${answer ? `: ${answer}` : ''}`);
        response.destroy();
      };
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_ANSWER_BYTES) done();
      });
      response.on('end', done);
      response.on('error', done);
      response.on('close', done);
    });
    request.on('error', (err: Error & { code?: string }) => {
      if (err instanceof Refused || (err as { cause?: unknown }).cause instanceof Refused) {
        return settle(0, `refused: ${(err instanceof Refused ? err : (err as { cause: Error }).cause).message}`);
      }
      if (timedOut.aborted) return settle(0, `no answer within ${timeoutMs / 1000} s`);
      if (signal.aborted) return settle(0, 'interrupted: the registry is stopping');
      settle(0, err.code ? `${err.code}: ${err.message}` : err.message);
    });
    request.end(body);
  });
}

export class WebhookDispatcher {
  /** This process in lease owners' names; a restarted process is a new owner (its old leases lapse). */
  private readonly owner = `${os.hostname()}:${process.pid}/${randomUUID()}`;
  private readonly active = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private wakeUp = new AbortController();
  private running?: Promise<void>;

  constructor(private readonly options: WebhookDispatcherOptions) {}

  start(): void {
    this.running ??= this.loop();
  }

  /** Interrupts the attempts in flight (their events go to whichever replica takes the webhooks next: at once, the
   * leases released) and waits for them to settle. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    await Promise.allSettled([...this.active.values()]);
  }

  private async loop(): Promise<void> {
    const { store, log, settings } = this.options;
    while (!this.stopping.signal.aborted) {
      const horizon = this.options.tail.position;
      const free = CONCURRENT_WEBHOOKS - this.active.size;
      let troubled = false;
      if (free > 0) {
        try {
          const claimed = await store.claimWebhooks({ owner: this.owner, leaseMs: settings.leaseMs, horizon, limit: free });
          for (const webhook of claimed) {
            const task = this.deliver(webhook)
              .catch((err) => log.error({ err, webhook: webhook.id }, 'webhook delivery stopped on an error; it is retried once its lease lapses'))
              .finally(() => {
                this.active.delete(webhook.id);
                this.wakeUp.abort();
              });
            this.active.set(webhook.id, task);
          }
        } catch (err) {
          troubled = true;
          log.warn({ err }, 'looking for webhooks with events to deliver failed; trying again');
        }
      }
      await this.wait(horizon, troubled ? 5000 : this.options.pollMs ?? 1000);
    }
  }

  /** Until an event past `horizon` commits, a delivery ends, the poll period passes, or stop(). */
  private async wait(horizon: number, ms: number): Promise<void> {
    const woken = this.wakeUp.signal;
    const deadline = Date.now() + ms;
    const tail = this.options.tail;
    while (!this.stopping.signal.aborted && !woken.aborted && tail.position <= horizon && Date.now() < deadline) {
      await tail.next(horizon, AbortSignal.any([this.stopping.signal, woken, AbortSignal.timeout(Math.max(1, deadline - Date.now()))]));
    }
    if (woken.aborted) this.wakeUp = new AbortController();
  }

  /** Sends the webhook's events from its cursor until it is caught up, an attempt fails, or the lease is lost. */
  private async deliver(webhook: ClaimedWebhook): Promise<void> {
    const { store, settings } = this.options;
    const log = this.options.log.child({ webhook: webhook.id, url: shownUrl(webhook.url) });
    const lost = new AbortController();
    const renew = setInterval(() => {
      store.renewWebhookLease(webhook.id, this.owner, settings.leaseMs).then(
        (held) => {
          if (!held && !lost.signal.aborted) {
            log.warn('the webhook\'s delivery lease lapsed and another registry took it: this one stops');
            lost.abort();
          }
        },
        (err) => log.warn({ err }, 'renewing the webhook\'s delivery lease failed; the next renewal tries again'),
      );
    }, settings.leaseMs / 3);
    const signal = AbortSignal.any([lost.signal, this.stopping.signal]);
    try {
      let cursor = webhook.cursor;
      while (!signal.aborted) {
        // Every event up to the tail's position has committed (events commit in id order).
        const readTo = this.options.tail.position;
        const events = await store.eventsAfter({ afterId: cursor, limit: PAGE, model: webhook.model || undefined, namespace: webhook.namespace || undefined });
        for (const e of events) {
          if (webhook.kinds.length && !webhook.kinds.includes(e.kind)) continue;
          if (signal.aborted || !(await this.attempt(webhook, e, signal, log))) return;
          cursor = e.id;
        }
        // Past the events that did not match, and, on a short page, to everything known committed.
        const end = Math.max(cursor, events.at(-1)?.id ?? 0, events.length < PAGE ? readTo : 0);
        if (end > cursor) {
          if (!(await store.advanceWebhookCursor(webhook.id, this.owner, end))) return;
          cursor = end;
        }
        if (events.length < PAGE && this.options.tail.position <= cursor) return;
      }
    } finally {
      clearInterval(renew);
      await store.releaseWebhookLease(webhook.id, this.owner).catch((err) => log.warn({ err }, 'releasing the webhook\'s delivery lease failed; it lapses by itself'));
    }
  }

  /** One attempt at one event, logged before it goes out and after; true when delivered. */
  private async attempt(webhook: ClaimedWebhook, e: RegistryEventRecord, signal: AbortSignal, log: Logger): Promise<boolean> {
    const { store, settings } = this.options;
    const started = await store.startWebhookAttempt(webhook.id, this.owner, e);
    if (!started) return false;
    let outcome: PostOutcome;
    try {
      const body = JSON.stringify(cloudEvent(e, settings.source));
      const headers = {
        'content-type': CLOUD_EVENT_CONTENT_TYPE,
        'user-agent': 'kiln-webhooks/1',
        [SIGNATURE_HEADER]: signatureHeader(webhook.secret, body, Math.floor(Date.now() / 1000)),
        'kiln-webhook-id': webhook.id,
        'kiln-delivery-attempt': String(started.attempt),
      };
      outcome = await postWebhook(new URL(webhook.url), body, headers, this.options.allowList, settings.timeoutMs, signal);
    } catch (err) {
      // Whatever goes wrong making the request is the attempt's failure: it backs off, and disables the webhook in the
      // end, rather than being retried at once for ever.
      outcome = { statusCode: 0, error: `could not send: ${err instanceof Error ? err.message : String(err)}`, durationMs: 0 };
    }
    const delivered = outcome.statusCode >= 200 && outcome.statusCode < 300;
    let effect: WebhookAttemptEffect;
    if (delivered) effect = { delivered: true };
    else if (signal.aborted) effect = { interrupted: true };
    else effect = { delivered: false, ...afterFailure(webhook.failures + 1, e.id, outcome.error, settings) };
    const fields = { model: e.model, version: e.version, event: e.id, attempt: started.attempt, status: outcome.statusCode, durationMs: outcome.durationMs };
    await store.finishWebhookAttempt(webhook.id, this.owner, { deliveryId: started.deliveryId, eventId: e.id, ...outcome }, effect);
    if (delivered) {
      webhook.failures = 0;
      log.debug(fields, 'webhook event delivered');
    } else if ('failures' in effect) {
      webhook.failures = effect.failures;
      if (effect.disabledReason) log.warn({ ...fields, err: outcome.error }, `webhook disabled: ${effect.disabledReason}`);
      else log.warn({ ...fields, err: outcome.error, retryInMs: effect.retryInMs }, 'webhook delivery failed; retrying');
    }
    return delivered;
  }
}
