// `kiln audit`'s rows: one line per audited call, newest first.
import type { AuditEvent__Output } from '@kiln/api/generated/kiln/v1/AuditEvent';
import { fromTimestamp } from '@kiln/api/timestamp';

export const AUDIT_HEADER = `${'TIME'.padEnd(24)}  ${'CALLER'.padEnd(28)}  ${'RPC'.padEnd(20)}  ${'MODEL'.padEnd(28)}  ${'RESULT'.padEnd(18)}  MESSAGE`;

export function auditRow(e: AuditEvent__Output): string {
  const time = fromTimestamp(e.time)?.toISOString() ?? '-';
  const rpc = e.rpc.slice(e.rpc.lastIndexOf('/') + 1);
  const model = e.model ? (e.version ? `${e.model}:${e.version}` : e.model) : '-';
  return `${time.padEnd(24)}  ${e.caller.padEnd(28)}  ${rpc.padEnd(20)}  ${model.padEnd(28)}  ${e.result.padEnd(18)}  ${e.message.replace(/\s+/g, ' ')}`;
}
