// `kiln token`'s arguments and rows: role bindings as NAMESPACE=ROLE, expiries as a duration or a date.
import type { Token__Output } from '@kiln/api/generated/kiln/v1/Token';
import type { RoleBinding } from '@kiln/api/generated/kiln/v1/RoleBinding';
import { fromTimestamp, toTimestamp, type TimestampValue } from '@kiln/api/timestamp';
import { usage } from './usage';

const ROLES = ['reader', 'writer', 'maintainer', 'admin'];

/** `fraud=writer`, `*=reader`. */
export function parseBinding(text: string): RoleBinding {
  const i = text.lastIndexOf('=');
  const role = text.slice(i + 1).toLowerCase();
  if (i <= 0 || !ROLES.includes(role)) throw usage(`expected NAMESPACE=ROLE (roles: ${ROLES.join(', ')}), got ${text}`, '--role');
  return { namespace: text.slice(0, i), role: `ROLE_${role.toUpperCase()}` as RoleBinding['role'] };
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A moment as a flag gives it: a duration (`30d`, `12h`, `90m`) from now, ahead (`direction` 1) or back (-1), or an
 * ISO date. */
export function parseMoment(text: string, now: Date, direction: 1 | -1, flag: string): TimestampValue {
  const duration = /^(\d+)([mhd])$/.exec(text);
  const at = duration ? new Date(now.getTime() + direction * Number(duration[1]) * UNIT_MS[duration[2]]) : new Date(text);
  if (Number.isNaN(at.getTime())) throw usage(`expected a duration (30d, 12h, 90m) or an ISO date, got ${text}`, flag);
  return toTimestamp(at);
}

/** `30d`, `12h`, `90m` from now, or an ISO date. */
export function parseExpiry(text: string, now: Date): TimestampValue {
  return parseMoment(text, now, 1, '--expires');
}

export const TOKEN_HEADER = `${'ID'.padEnd(20)}  ${'OWNER'.padEnd(24)}  ${'ROLES'.padEnd(32)}  ${'EXPIRES'.padEnd(24)}  ${'LAST USED'.padEnd(24)}  REVOKED`;

const when = (t: TimestampValue | null) => fromTimestamp(t)?.toISOString() ?? '-';

export function tokenRow(t: Token__Output): string {
  const roles = t.bindings.map((b) => `${b.namespace}=${String(b.role).replace(/^ROLE_/, '').toLowerCase()}`).join(',');
  return `${t.id.padEnd(20)}  ${t.owner.padEnd(24)}  ${roles.padEnd(32)}  ${when(t.expireTime).padEnd(24)}  ${when(t.lastUseTime).padEnd(24)}  ${when(t.revokeTime)}`;
}
