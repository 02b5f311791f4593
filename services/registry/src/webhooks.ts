// Webhooks' rules, in one place: which URLs a webhook may have and which addresses a delivery may connect to (the
// SSRF guard: loopback, or hosts on KILN_WEBHOOK_ALLOWED_HOSTS, which must resolve to public addresses unless the
// list names the address), what a delivery is (a CloudEvents 1.0 structured-mode JSON body) and how it is signed
// (`kiln-signature`), and how failures back off and when they disable the webhook. Plain functions over plain data;
// the delivery loop is webhook-dispatcher.ts's, the RPCs webhook-service.ts's.
import { createHmac, randomBytes } from 'node:crypto';
import net from 'node:net';
import { toProto3Json } from '@kiln/api/json';
import { invalidArgument } from '@kiln/errors';
import { eventToProto } from './event-service';
import type { EventKind, RegistryEventRecord } from './store';

export const ALLOWED_HOSTS_SETTING = 'KILN_WEBHOOK_ALLOWED_HOSTS';
const MAX_URL_LENGTH = 2048;
export const MIN_SECRET_LENGTH = 32;
const MAX_SECRET_LENGTH = 1024;

/** A new webhook's id: `wh_`, a time-ordered part (lists by id are oldest first), then randomness. */
export function newWebhookId(now = Date.now()): string {
  return `wh_${now.toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;
}

export function validateSecret(secret: string, where: string): string {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw invalidArgument(`the secret is ${secret.length} characters long: at least ${MIN_SECRET_LENGTH} (make one with: openssl rand -hex 32)`, where);
  }
  if (secret.length > MAX_SECRET_LENGTH) throw invalidArgument(`the secret is at most ${MAX_SECRET_LENGTH} characters long`, where);
  return secret;
}

// --- Where deliveries may go -----------------------------------------------------------------------------------

/** KILN_WEBHOOK_ALLOWED_HOSTS, parsed: names, `*.suffix` patterns, and addresses or ranges. */
export interface AllowList {
  names: ReadonlySet<string>;
  /** `.example.com` for `*.example.com`: its subdomains, not itself. */
  suffixes: readonly string[];
  addresses: net.BlockList;
}

const LABEL = '[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?';
const HOST_NAME = new RegExp(`^${LABEL}(\\.${LABEL})*\\.?$`);

/** Parses the setting's entries; a bad one throws, naming the setting. */
export function parseAllowList(entries: readonly string[]): AllowList {
  const names = new Set<string>();
  const suffixes: string[] = [];
  const addresses = new net.BlockList();
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr && net.isIP(cidr[1])) {
      const family = net.isIPv4(cidr[1]) ? 'ipv4' : 'ipv6';
      const prefix = Number(cidr[2]);
      if (prefix > (family === 'ipv4' ? 32 : 128)) throw new Error(`invalid configuration: ${ALLOWED_HOSTS_SETTING}: ${raw} is not a valid range`);
      addresses.addSubnet(cidr[1], prefix, family);
    } else if (net.isIP(entry)) {
      addresses.addAddress(entry, net.isIPv4(entry) ? 'ipv4' : 'ipv6');
    } else if (entry.startsWith('*.') && HOST_NAME.test(entry.slice(2))) {
      suffixes.push(entry.slice(1));
    } else if (HOST_NAME.test(entry)) {
      names.add(entry.replace(/\.$/, ''));
    } else {
      throw new Error(`invalid configuration: ${ALLOWED_HOSTS_SETTING}: ${raw} is not a host name, *.domain, IP address or CIDR range`);
    }
  }
  return { names, suffixes, addresses };
}

/** Addresses that are not on the public internet: private, loopback, link-local (cloud metadata), CGNAT, reserved. */
const NON_PUBLIC = new net.BlockList();
for (const [range, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) NON_PUBLIC.addSubnet(range, prefix, 'ipv4');
for (const [range, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) NON_PUBLIC.addSubnet(range, prefix, 'ipv6');

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const familyOf = (address: string) => (net.isIPv4(address) ? 'ipv4' : 'ipv6');

/** Loopback, IPv4-mapped IPv6 included (BlockList matches `::ffff:127.0.0.1` against the IPv4 rule). */
export const isLoopbackAddress = (address: string) => net.isIP(address) !== 0 && LOOPBACK.check(address, familyOf(address));
export const isPublicAddress = (address: string) => net.isIP(address) !== 0 && !NON_PUBLIC.check(address, familyOf(address));

/** A URL's host as names and addresses are compared: lower case, IPv6 without brackets, no trailing dot. */
export function hostOf(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** `localhost` or a loopback address: allowed without the list. */
export const isLoopbackHost = (host: string) => host === 'localhost' || isLoopbackAddress(host);

function onAllowList(host: string, allow: AllowList): boolean {
  if (net.isIP(host)) return allow.addresses.check(host, familyOf(host));
  return allow.names.has(host) || allow.suffixes.some((s) => host.endsWith(s));
}

/** Why a webhook's host may not be used, or undefined when it may (before any name is resolved). */
export function hostRefusal(host: string, allow: AllowList): string | undefined {
  if (isLoopbackHost(host) || onAllowList(host, allow)) return undefined;
  return `${host} is not a loopback host and not in ${ALLOWED_HOSTS_SETTING}: the registry only delivers to hosts its operator allowed`;
}

/**
 * Why a delivery to `host` may not connect to `address` (one it resolved to), or undefined when it may. Checked on
 * every connection, after resolution, so that a name on the list that resolves (or is rebound) to an internal
 * address does not reach it, unless the list names that address or its range.
 */
export function addressRefusal(host: string, address: string, allow: AllowList): string | undefined {
  if (host === 'localhost') return isLoopbackAddress(address) ? undefined : `localhost resolves to ${address}, not a loopback address`;
  if (isLoopbackAddress(host)) return undefined;
  const refused = hostRefusal(host, allow);
  if (refused) return refused;
  if (allow.addresses.check(address, familyOf(address)) || isPublicAddress(address)) return undefined;
  return `${host} resolves to ${address}, which is not a public address and not in ${ALLOWED_HOSTS_SETTING} (list the address or its range to allow it)`;
}

/** Checks a webhook's URL when it is created: http or https, no credentials, a host allowed. */
export function checkWebhookUrl(text: string, allow: AllowList, where: string): URL {
  if (!text) throw invalidArgument('give the URL events are POSTed to', where);
  if (text.length > MAX_URL_LENGTH) throw invalidArgument(`the URL is at most ${MAX_URL_LENGTH} characters long`, where);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidArgument(`${JSON.stringify(text.slice(0, 200))} is not a URL`, where);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidArgument(`the URL's scheme is ${url.protocol.replace(/:$/, '')}: http or https only`, where);
  if (url.username || url.password) throw invalidArgument('the URL has credentials in it: the receiver checks the signature instead', where);
  if (url.hash) throw invalidArgument('the URL has a fragment, which is never sent', where);
  const refused = hostRefusal(hostOf(url), allow);
  if (refused) throw invalidArgument(refused, where);
  return url;
}

/** A URL as logs and the audit trail show it: no query (it may carry a receiver's token). */
export const shownUrl = (url: string) => {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return url.slice(0, 200);
  }
};

// --- What a delivery is ----------------------------------------------------------------------------------------

/** The CloudEvents `type` of each kind: one line per kind, checked complete by the compiler. */
export const CLOUD_EVENT_TYPES: Readonly<Record<EventKind, string>> = {
  VERSION_CREATED: 'dev.kiln.model.version.created',
  VERSION_RELEASED: 'dev.kiln.model.version.released',
  VERSION_FAILED: 'dev.kiln.model.version.failed',
  VERSION_DELETED: 'dev.kiln.model.version.deleted',
  LABELS_CHANGED: 'dev.kiln.model.version.labels_changed',
  ALIAS_SET: 'dev.kiln.model.alias.set',
  ALIAS_MOVED: 'dev.kiln.model.alias.moved',
  ALIAS_DELETED: 'dev.kiln.model.alias.deleted',
};

export interface CloudEvent {
  specversion: '1.0';
  /** The event's id in the registry's log: the same on every redelivery (receivers drop one they have seen). */
  id: string;
  source: string;
  type: string;
  /** What it is about, as the CLI names it: `NAME@ALIAS` for alias events, `NAME:VERSION` for the others. */
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  /** The event as kiln.v1.RegistryEvent's proto3 JSON (what grpcurl prints for WatchModels). */
  data: unknown;
}

export function cloudEvent(e: RegistryEventRecord, source: string): CloudEvent {
  return {
    specversion: '1.0',
    id: String(e.id),
    source,
    type: CLOUD_EVENT_TYPES[e.kind],
    subject: e.kind.startsWith('ALIAS_') ? `${e.model}@${e.alias}` : `${e.model}:${e.version}`,
    time: e.time.toISOString(),
    datacontenttype: 'application/json',
    data: toProto3Json('kiln.v1.RegistryEvent', eventToProto(e)),
  };
}

export const SIGNATURE_HEADER = 'kiln-signature';
export const CLOUD_EVENT_CONTENT_TYPE = 'application/cloudevents+json';

/**
 * The `kiln-signature` header of a body sent at `unixSeconds`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>" keyed by the webhook's secret>`. The time is signed too, so a receiver that refuses old ones (say
 * over 5 minutes) cannot be replayed a captured delivery.
 */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

// --- Failures --------------------------------------------------------------------------------------------------

export interface RetrySettings {
  retryDelayMs: number;
  retryMaxDelayMs: number;
  disableAfter: number;
}

/** How long after failure number `failures` (1 for the first in a row) the next attempt waits: doubling from the
 * base delay up to the cap (1 s, 2 s, 4s ... 5 min by default). */
export function retryDelayMs(failures: number, settings: Pick<RetrySettings, 'retryDelayMs' | 'retryMaxDelayMs'>): number {
  return Math.min(settings.retryMaxDelayMs, settings.retryDelayMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
}

/** What failure number `failures` in a row does: a retry later, and, at the limit, the webhook disabled, saying why. */
export function afterFailure(failures: number, eventId: number, error: string, settings: RetrySettings): { failures: number; retryInMs: number; disabledReason: string } {
  const disabledReason = failures >= settings.disableAfter
    ? `disabled after ${failures} failed attempts in a row delivering event ${eventId}; the last: ${error}`.slice(0, 2048)
    : '';
  return { failures, retryInMs: retryDelayMs(failures, settings), disabledReason };
}
