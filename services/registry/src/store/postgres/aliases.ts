// Aliases, their moves and their image tags' state in Postgres (migration model_aliases).
import type pg from 'pg';
import type { AliasMoveRecord, AliasRecord, NewAliasMove } from '../index';
import type { Queryable } from './sql';

const ALIAS_COLUMNS = `a.model, a.alias, a.version, a.protected, a.update_time, a.updated_by, a.tag_pending, a.tag_error,
  v.image_reference, v.image_digest`;
const ALIAS_FROM = 'model_aliases a JOIN model_versions v ON v.model = a.model AND v.version = a.version';

function toAlias(r: Record<string, any>): AliasRecord {
  return {
    model: r.model,
    alias: r.alias,
    version: Number(r.version),
    protected: r.protected,
    updateTime: r.update_time,
    updatedBy: r.updated_by,
    tagPending: r.tag_pending,
    tagError: r.tag_error,
    versionImageReference: r.image_reference,
    versionImageDigest: r.image_digest,
  };
}

/** The hot path of a read by alias: a named statement, planned once per connection. */
const RESOLVE_ALIAS = { name: 'kiln_resolve_alias', text: 'SELECT version FROM model_aliases WHERE model = $1 AND alias = $2' };

export async function resolveAlias(db: Queryable, model: string, alias: string): Promise<number | null> {
  const { rows } = await db.query({ ...RESOLVE_ALIAS, values: [model, alias] });
  return rows[0] ? Number(rows[0].version) : null;
}

export async function getAlias(db: Queryable, model: string, alias: string): Promise<AliasRecord | null> {
  const { rows } = await db.query(`SELECT ${ALIAS_COLUMNS} FROM ${ALIAS_FROM} WHERE a.model = $1 AND a.alias = $2`, [model, alias]);
  return rows[0] ? toAlias(rows[0]) : null;
}

export async function listAliases(db: Queryable, model: string): Promise<AliasRecord[]> {
  const { rows } = await db.query(`SELECT ${ALIAS_COLUMNS} FROM ${ALIAS_FROM} WHERE a.model = $1 ORDER BY a.alias COLLATE "C"`, [model]);
  return rows.map(toAlias);
}

export async function aliasHistory(db: Queryable, q: { model: string; alias?: string; pageSize: number; beforeId?: number }): Promise<AliasMoveRecord[]> {
  const { rows } = await db.query(
    `SELECT * FROM alias_moves WHERE model = $1 AND ($2::text IS NULL OR alias = $2) AND ($3::bigint IS NULL OR id < $3)
      ORDER BY id DESC LIMIT $4`,
    [q.model, q.alias ?? null, q.beforeId ?? null, q.pageSize],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    model: r.model,
    alias: r.alias,
    fromVersion: Number(r.from_version),
    toVersion: Number(r.to_version),
    caller: r.caller,
    time: r.time,
    reason: r.reason,
    breaking: r.breaking,
    protected: r.protected,
  }));
}

export async function setTagResult(db: Queryable, model: string, alias: string, version: number, error: string): Promise<void> {
  await db.query(
    'UPDATE model_aliases SET tag_pending = $4 <> \'\', tag_error = $4, tag_attempt_time = now() WHERE model = $1 AND alias = $2 AND version = $3',
    [model, alias, version, error],
  );
}

export async function claimPendingTags(db: Queryable, retryAfterMs: number, limit: number): Promise<AliasRecord[]> {
  const { rows } = await db.query(
    `WITH claimed AS (
       UPDATE model_aliases SET tag_attempt_time = now()
        WHERE (model, alias) IN (
          SELECT model, alias FROM model_aliases
           WHERE tag_pending AND (tag_attempt_time IS NULL OR tag_attempt_time < now() - make_interval(secs => $1::double precision / 1000))
           ORDER BY tag_attempt_time NULLS FIRST LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING *)
     SELECT ${ALIAS_COLUMNS} FROM claimed a JOIN model_versions v ON v.model = a.model AND v.version = a.version`,
    [retryAfterMs, limit],
  );
  return rows.map(toAlias);
}

export async function lockAlias(tx: pg.PoolClient, model: string, alias: string): Promise<AliasRecord | null> {
  // An advisory lock on the name serialises two sets of an alias that does not exist yet (no row to lock).
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 11))', [`${model}@${alias}`]);
  return getAlias(tx, model, alias);
}

export async function putAlias(tx: pg.PoolClient, a: { model: string; alias: string; version: number; protected: boolean; updatedBy: string }, move: NewAliasMove): Promise<void> {
  await tx.query(
    `INSERT INTO model_aliases (model, alias, version, protected, updated_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (model, alias) DO UPDATE SET version = $3, protected = $4, updated_by = $5, update_time = now(),
       tag_pending = true, tag_error = '', tag_attempt_time = NULL`,
    [a.model, a.alias, a.version, a.protected, a.updatedBy],
  );
  await recordMove(tx, move);
}

export async function deleteAlias(tx: pg.PoolClient, model: string, alias: string, move: NewAliasMove): Promise<void> {
  await tx.query('DELETE FROM model_aliases WHERE model = $1 AND alias = $2', [model, alias]);
  await recordMove(tx, move);
}

async function recordMove(tx: pg.PoolClient, m: NewAliasMove): Promise<void> {
  await tx.query(
    `INSERT INTO alias_moves (model, alias, from_version, to_version, caller, reason, breaking, protected)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [m.model, m.alias, m.fromVersion, m.toVersion, m.caller, m.reason, m.breaking, m.protected],
  );
}

export async function aliasesOf(db: Queryable, model: string, version: number): Promise<string[]> {
  const { rows } = await db.query('SELECT alias FROM model_aliases WHERE model = $1 AND version = $2 ORDER BY alias COLLATE "C"', [model, version]);
  return rows.map((r) => r.alias);
}
