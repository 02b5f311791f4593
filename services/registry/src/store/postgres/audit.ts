// The audit trail in Postgres (migration audit_events): inserts, in a change's transaction or on their own, and
// filtered pages newest first. The table refuses updates and deletes itself.
import type { AuditEventRecord, AuditQuery, NewAuditEvent } from '../index';
import type { Queryable } from './sql';

interface AuditRow {
  id: string;
  call_id: string;
  time: Date;
  caller: string;
  rpc: string;
  model: string;
  namespace: string;
  version: string;
  result: string;
  message: string;
  peer: string;
}

export async function recordAuditEvent(db: Queryable, e: NewAuditEvent): Promise<boolean> {
  const inserted = await db.query({
    name: 'kiln_record_audit_event',
    text: `INSERT INTO audit_events (call_id, caller, rpc, model, namespace, version, result, message, peer)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (call_id) DO NOTHING`,
    values: [e.callId, e.caller, e.rpc, e.model, e.namespace, e.version, e.result, e.message, e.peer],
  });
  return inserted.rowCount === 1;
}

/** Column filters of AuditQuery, each an equality. */
const EQUALITIES = ['model', 'namespace', 'caller', 'rpc', 'result'] as const;

export async function listAuditEvents(db: Queryable, q: AuditQuery): Promise<AuditEventRecord[]> {
  const values: unknown[] = [];
  const where: string[] = [];
  const param = (value: unknown) => `$${values.push(value)}`;
  if (q.beforeId !== undefined) where.push(`id < ${param(q.beforeId)}`);
  for (const column of EQUALITIES) {
    const value = q[column];
    if (value !== undefined) where.push(`${column} = ${param(value)}`);
  }
  if (q.startTime) where.push(`time >= ${param(q.startTime)}`);
  if (q.endTime) where.push(`time < ${param(q.endTime)}`);
  const { rows } = await db.query<AuditRow>(
    `SELECT * FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${param(q.pageSize)}`,
    values,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    callId: r.call_id,
    time: r.time,
    caller: r.caller,
    rpc: r.rpc,
    model: r.model,
    namespace: r.namespace,
    version: Number(r.version),
    result: r.result,
    message: r.message,
    peer: r.peer,
  }));
}
