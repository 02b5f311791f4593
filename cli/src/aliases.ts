// `kiln alias`'s rows (a model's aliases, and their moves newest first) and `kiln diff`'s text.
import type { AliasMove__Output } from '@kiln/api/generated/kiln/v1/AliasMove';
import type { ModelAlias__Output } from '@kiln/api/generated/kiln/v1/ModelAlias';
import type { DiffContractsResponse__Output } from '@kiln/api/generated/kiln/v1/DiffContractsResponse';
import { fromTimestamp, type TimestampValue } from '@kiln/api/timestamp';

const when = (t: TimestampValue | null) => fromTimestamp(t)?.toISOString() ?? '-';

export const ALIAS_HEADER = `${'ALIAS'.padEnd(20)}  ${'VERSION'.padStart(7)}  ${'PROTECTED'.padEnd(9)}  ${'UPDATED'.padEnd(24)}  ${'BY'.padEnd(28)}  TAG`;

export function aliasRow(a: ModelAlias__Output): string {
  const tag = a.imageReference ? `${a.imageReference}${a.tagPending ? ` (pending${a.tagError ? `: ${a.tagError}` : ''})` : ''}` : '-';
  return `${a.alias.padEnd(20)}  ${String(a.version).padStart(7)}  ${(a.protected ? 'yes' : 'no').padEnd(9)}  ${when(a.updateTime).padEnd(24)}  ${a.updatedBy.padEnd(28)}  ${tag}`;
}

export const MOVE_HEADER = `${'TIME'.padEnd(24)}  ${'ALIAS'.padEnd(20)}  ${'FROM'.padStart(6)}  ${'TO'.padStart(6)}  ${'BY'.padEnd(28)}  REASON`;

export function moveRow(m: AliasMove__Output): string {
  const version = (v: number | string) => (Number(v) ? String(v) : '-');
  const marks = [m.protected ? 'protected' : '', m.breaking ? 'breaking, allowed' : ''].filter(Boolean).join(', ');
  return `${when(m.time).padEnd(24)}  ${m.alias.padEnd(20)}  ${version(m.fromVersion).padStart(6)}  ${version(m.toVersion).padStart(6)}  ${m.caller.padEnd(28)}  ${m.reason}${marks ? ` [${marks}]` : ''}`;
}

/** One line per change, breaking first in the server's order within each severity, then a summary. */
export function diffText(d: DiffContractsResponse__Output, against: string, candidate: string): string {
  const severity = (c: { severity: unknown }) => String(c.severity).replace('CHANGE_SEVERITY_', '').toLowerCase();
  const order = ['breaking', 'compatible', 'informational'];
  const changes = [...d.changes].sort((a, b) => order.indexOf(severity(a)) - order.indexOf(severity(b)));
  const counts = order.map((s) => [s, changes.filter((c) => severity(c) === s).length] as const).filter(([, n]) => n);
  const lines = changes.map((c) => `${severity(c).padEnd(13)}  ${c.path}: ${c.message}`);
  const summary = counts.length ? counts.map(([s, n]) => `${n} ${s}`).join(', ') : 'no changes';
  return [...lines, `${candidate} against ${against}: ${summary}`].join('\n');
}
