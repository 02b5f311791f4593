// Webhooks in Postgres (migration webhooks): the webhooks with their cursors and delivery leases, and the log of
// every attempt. A delivery's writes are conditioned on its lease: an owner that lost it changes nothing.
import { INTERRUPTED_ATTEMPT, type ClaimedWebhook, type EventKind, type NewWebhook, type WebhookAttemptEffect, type WebhookDeliveryRecord, type WebhookRecord } from '../index';
import type { Queryable } from './sql';

/** `now()` plus the milliseconds in parameter `p`. */
const fromNow = (p: string) => `now() + ${p}::bigint * interval '1 millisecond'`;


interface WebhookRow {
  id: string;
  url: string;
  namespace: string;
  model: string;
  kinds: string[];
  secret: string;
  created_by: string;
  create_time: Date;
  cursor: string;
  failures: number;
  next_attempt_time: Date;
  last_delivery_time: Date | null;
  disabled: boolean;
  disabled_reason: string;
  disable_time: Date | null;
}

function webhookOf(r: WebhookRow): WebhookRecord {
  return {
    id: r.id,
    url: r.url,
    namespace: r.namespace,
    model: r.model,
    kinds: r.kinds as EventKind[],
    createdBy: r.created_by,
    createTime: r.create_time,
    cursor: Number(r.cursor),
    failures: r.failures,
    nextAttemptTime: r.next_attempt_time,
    lastDeliveryTime: r.last_delivery_time,
    disabled: r.disabled,
    disabledReason: r.disabled_reason,
    disableTime: r.disable_time,
  };
}

const COLUMNS = 'id, url, namespace, model, kinds, created_by, create_time, cursor, failures, next_attempt_time, last_delivery_time, disabled, disabled_reason, disable_time';

export async function createWebhook(db: Queryable, w: NewWebhook): Promise<WebhookRecord> {
  // Every event up to the newest committed one has committed (events commit in id order): from there on is "from now".
  const { rows } = await db.query<WebhookRow>(
    `INSERT INTO webhooks (id, url, namespace, model, kinds, secret, created_by, cursor)
     VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT coalesce(max(id), 0) FROM registry_events))
     RETURNING ${COLUMNS}`,
    [w.id, w.url, w.namespace, w.model, w.kinds, w.secret, w.createdBy],
  );
  return webhookOf(rows[0]);
}

export async function getWebhook(db: Queryable, id: string): Promise<WebhookRecord | null> {
  const { rows } = await db.query<WebhookRow>(`SELECT ${COLUMNS} FROM webhooks WHERE id = $1`, [id]);
  return rows[0] ? webhookOf(rows[0]) : null;
}

export async function listWebhooks(db: Queryable, q: { pageSize: number; afterId?: string }): Promise<WebhookRecord[]> {
  const { rows } = await db.query<WebhookRow>(
    `SELECT ${COLUMNS} FROM webhooks WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`,
    [q.afterId ?? null, q.pageSize],
  );
  return rows.map(webhookOf);
}

export async function deleteWebhook(db: Queryable, id: string): Promise<WebhookRecord | null> {
  const { rows } = await db.query<WebhookRow>(`DELETE FROM webhooks WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
  return rows[0] ? webhookOf(rows[0]) : null;
}

export async function enableWebhook(db: Queryable, id: string): Promise<WebhookRecord | null> {
  const { rows } = await db.query<WebhookRow>(
    `UPDATE webhooks SET disabled = false, disabled_reason = '', disable_time = NULL, failures = 0, next_attempt_time = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id],
  );
  return rows[0] ? webhookOf(rows[0]) : null;
}

interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  kind: string;
  model: string;
  attempt: number;
  time: Date;
  finished: boolean;
  status_code: number;
  error: string;
  duration_ms: string;
  delivered: boolean;
}

export async function listWebhookDeliveries(db: Queryable, q: { webhookId: string; pageSize: number; beforeId?: number }): Promise<WebhookDeliveryRecord[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT * FROM webhook_deliveries WHERE webhook_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [q.webhookId, q.beforeId ?? null, q.pageSize],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    webhookId: r.webhook_id,
    eventId: Number(r.event_id),
    kind: r.kind as EventKind,
    model: r.model,
    attempt: r.attempt,
    time: r.time,
    finished: r.finished,
    statusCode: r.status_code,
    error: r.error,
    durationMs: Number(r.duration_ms),
    delivered: r.delivered,
  }));
}

export async function claimWebhooks(db: Queryable, q: { owner: string; leaseMs: number; horizon: number; limit: number }): Promise<ClaimedWebhook[]> {
  // Concurrent claims skip each other's rows: each webhook goes to one owner. What a dead owner left unfinished is
  // marked in the same statement, before the new owner tries again.
  const { rows } = await db.query<WebhookRow>(
    `WITH claimed AS (
       UPDATE webhooks SET lease_owner = $1, lease_until = ${fromNow('$2')}
        WHERE id IN (SELECT id FROM webhooks
                      WHERE NOT disabled AND next_attempt_time <= now() AND cursor < $3
                        AND (lease_until IS NULL OR lease_until < now())
                      ORDER BY next_attempt_time LIMIT $4 FOR UPDATE SKIP LOCKED)
        RETURNING ${COLUMNS}, secret
     ), interrupted AS (
       UPDATE webhook_deliveries d SET finished = true, error = $5
         FROM claimed c WHERE d.webhook_id = c.id AND NOT d.finished
     )
     SELECT * FROM claimed ORDER BY id`,
    [q.owner, q.leaseMs, q.horizon, q.limit, INTERRUPTED_ATTEMPT],
  );
  return rows.map((r) => ({ ...webhookOf(r), secret: r.secret }));
}

export async function renewWebhookLease(db: Queryable, id: string, owner: string, leaseMs: number): Promise<boolean> {
  const res = await db.query(`UPDATE webhooks SET lease_until = ${fromNow('$3')} WHERE id = $1 AND lease_owner = $2`, [id, owner, leaseMs]);
  return (res.rowCount ?? 0) > 0;
}

export async function releaseWebhookLease(db: Queryable, id: string, owner: string): Promise<void> {
  await db.query('UPDATE webhooks SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2', [id, owner]);
}

export async function advanceWebhookCursor(db: Queryable, id: string, owner: string, cursor: number): Promise<boolean> {
  const res = await db.query(
    'UPDATE webhooks SET cursor = greatest(cursor, $3), event_attempts = CASE WHEN cursor < $3 THEN 0 ELSE event_attempts END WHERE id = $1 AND lease_owner = $2',
    [id, owner, cursor],
  );
  return (res.rowCount ?? 0) > 0;
}

export async function startWebhookAttempt(db: Queryable, id: string, owner: string, event: { id: number; kind: EventKind; model: string }): Promise<{ deliveryId: number; attempt: number } | null> {
  const { rows } = await db.query(
    `WITH w AS (
       UPDATE webhooks SET event_attempts = event_attempts + 1 WHERE id = $1 AND lease_owner = $2 AND cursor < $3
       RETURNING id, event_attempts
     )
     INSERT INTO webhook_deliveries (webhook_id, event_id, kind, model, attempt)
     SELECT id, $3, $4, $5, event_attempts FROM w RETURNING id, attempt`,
    [id, owner, event.id, event.kind, event.model],
  );
  return rows[0] ? { deliveryId: Number(rows[0].id), attempt: rows[0].attempt } : null;
}

export async function finishWebhookAttempt(
  db: Queryable, id: string, owner: string,
  attempt: { deliveryId: number; eventId: number; statusCode: number; error: string; durationMs: number },
  effect: WebhookAttemptEffect,
): Promise<boolean> {
  const delivered = 'delivered' in effect && effect.delivered;
  const values: unknown[] = [id, owner, attempt.deliveryId, attempt.statusCode, attempt.error, Math.round(attempt.durationMs), delivered, attempt.eventId];
  let change = '';
  if (delivered) {
    change = 'cursor = greatest(cursor, $8), event_attempts = 0, failures = 0, last_delivery_time = now()';
  } else if ('failures' in effect) {
    values.push(effect.failures, effect.retryInMs, effect.disabledReason);
    change = `failures = $9, next_attempt_time = ${fromNow('$10')},
              disabled = $11 <> '', disabled_reason = $11, disable_time = CASE WHEN $11 <> '' THEN now() END`;
  }
  const { rows } = await db.query(
    `WITH w AS (
       ${change ? `UPDATE webhooks SET ${change} WHERE id = $1 AND lease_owner = $2 RETURNING id` : 'SELECT id FROM webhooks WHERE id = $1 AND lease_owner = $2'}
     ), d AS (
       UPDATE webhook_deliveries SET finished = true, status_code = $4, error = $5, duration_ms = $6, delivered = $7
        WHERE id = $3 AND webhook_id = $1 AND event_id = $8 AND NOT finished AND EXISTS (SELECT 1 FROM w)
     )
     SELECT count(*)::int AS n FROM w`,
    values,
  );
  return rows[0].n > 0;
}
