// The registry's events in Postgres (migration registry_events). An event is its transaction's last write, under one
// advisory lock held until the commit: ids are assigned and committed in the same order, so "every event up to id N"
// is a fact a reader can rely on, on any replica.
import type pg from 'pg';
import type { EventKind, NewRegistryEvent, RegistryEventRecord } from '../index';
import type { Queryable } from './sql';

/** The advisory lock that orders events (its two keys: Kiln's, and events'). */
const EVENT_ORDER_LOCK = 'SELECT pg_advisory_xact_lock(4242, 1)';

export async function recordEvent(tx: pg.PoolClient, e: NewRegistryEvent): Promise<void> {
  await tx.query(EVENT_ORDER_LOCK);
  await tx.query(
    `INSERT INTO registry_events (kind, model, namespace, version, alias, previous_version, caller, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [e.kind, e.model, e.namespace, e.version, e.alias, e.previousVersion, e.caller, JSON.stringify(e.details)],
  );
}

export async function eventsAfter(db: Queryable, q: { afterId: number; limit: number; model?: string; namespace?: string }): Promise<RegistryEventRecord[]> {
  const { rows } = await db.query(
    `SELECT * FROM registry_events WHERE id > $1 AND ($2::text IS NULL OR model = $2) AND ($3::text IS NULL OR namespace = $3)
      ORDER BY id LIMIT $4`,
    [q.afterId, q.model ?? null, q.namespace ?? null, q.limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    time: r.time,
    kind: r.kind as EventKind,
    model: r.model,
    namespace: r.namespace,
    version: Number(r.version),
    alias: r.alias,
    previousVersion: Number(r.previous_version),
    caller: r.caller,
    details: r.details ?? {},
  }));
}

export async function lastEventId(db: Queryable): Promise<number> {
  const { rows } = await db.query({ name: 'kiln_last_event_id', text: 'SELECT coalesce(max(id), 0) AS id FROM registry_events' });
  return Number(rows[0].id);
}
