// The registry's metadata in Postgres: models, versions, their files, pending blobs and build logs. Plain SQL
// through `pg`; the same code runs on the embedded PGlite and a real Postgres.
import type pg from 'pg';
import type { Contract } from '@kiln/contract/types';

export type VersionStatus = 'BUILDING' | 'RELEASED' | 'FAILED' | 'DELETED';

export interface StoredFile {
  path: string;
  size: number;
  sha256: string;
  executable: boolean;
}

export interface VersionRecord {
  model: string;
  version: number;
  status: VersionStatus;
  failureReason: string;
  createTime: Date;
  files: StoredFile[];
  fileCount: number;
  totalSize: number;
  manifest: string;
  labels: Record<string, string>;
  metadata: Record<string, string>;
  contract: Contract | null;
  runtime: string;
  imageReference: string;
  imageDigest: string;
  buildStartTime: Date | null;
  buildEndTime: Date | null;
  deleteTime: Date | null;
}

export interface ModelRecord {
  name: string;
  latestVersion: number;
  versionCount: number;
  createTime: Date;
  updateTime: Date;
}

export interface NewVersion {
  model: string;
  files: StoredFile[];
  manifest: string;
  labels: Record<string, string>;
  metadata: Record<string, string>;
  contract: Contract | null;
  runtime: string;
}

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

const VERSION_COLUMNS = `model, version, status, failure_reason, create_time, total_size, file_count, manifest, labels,
  metadata, contract, runtime, image_reference, image_digest, build_start_time, build_end_time, delete_time`;

function toVersion(row: Record<string, any>, files: StoredFile[]): VersionRecord {
  return {
    model: row.model,
    version: row.version,
    status: row.status,
    failureReason: row.failure_reason,
    createTime: row.create_time,
    files,
    fileCount: row.file_count,
    totalSize: row.total_size,
    manifest: row.manifest,
    labels: row.labels ?? {},
    metadata: row.metadata ?? {},
    contract: row.contract ?? null,
    runtime: row.runtime,
    imageReference: row.image_reference,
    imageDigest: row.image_digest,
    buildStartTime: row.build_start_time,
    buildEndTime: row.build_end_time,
    deleteTime: row.delete_time,
  };
}

/** Creates version N+1 of the model inside the caller's transaction. The row lock taken by the UPDATE on the
 * model serialises concurrent uploads of one name, and a rolled-back transaction rolls its number back too, so
 * numbers are gapless and unique. */
export async function insertVersion(tx: pg.PoolClient, v: NewVersion): Promise<VersionRecord> {
  await tx.query('INSERT INTO models (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [v.model]);
  const { rows } = await tx.query(
    'UPDATE models SET latest_version = latest_version + 1, update_time = now() WHERE name = $1 RETURNING latest_version',
    [v.model],
  );
  const version: number = rows[0].latest_version;
  const files = [...v.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const totalSize = files.reduce((sum, f) => sum + f.size, 0);
  const inserted = await tx.query(
    `INSERT INTO model_versions (model, version, status, total_size, file_count, manifest, labels, metadata, contract, runtime)
     VALUES ($1, $2, 'BUILDING', $3, $4, $5, $6, $7, $8, $9) RETURNING ${VERSION_COLUMNS}`,
    [v.model, version, totalSize, files.length, v.manifest, v.labels, v.metadata, v.contract ? JSON.stringify(v.contract) : null, v.runtime],
  );
  // One multi-row insert per batch keeps a 10,000-file upload to a few statements.
  for (let i = 0; i < files.length; i += 1000) {
    const batch = files.slice(i, i + 1000);
    const params: unknown[] = [];
    const values = batch.map((f, j) => {
      params.push(v.model, version, f.path, f.size, f.sha256, f.executable);
      const b = j * 6;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6})`;
    });
    await tx.query(`INSERT INTO version_files (model, version, path, size, sha256, executable) VALUES ${values.join(', ')}`, params);
  }
  return toVersion(inserted.rows[0], files);
}

const VERSION_FILES = `(SELECT coalesce(json_agg(json_build_object('path', f.path, 'size', f.size, 'sha256', f.sha256,
    'executable', f.executable) ORDER BY f.path COLLATE "C"), '[]')
    FROM version_files f WHERE f.model = v.model AND f.version = v.version) AS files`;

// The reads behind GetModelVersion are named statements: Postgres parses and plans each once per connection instead
// of for every uncached read.
const GET_VERSION = {
  name: 'kiln_get_version',
  text: `SELECT ${VERSION_COLUMNS}, ${VERSION_FILES} FROM model_versions v WHERE model = $1 AND version = $2`,
};
const GET_NEWEST_VERSION = {
  name: 'kiln_get_newest_version',
  text: `SELECT ${VERSION_COLUMNS}, ${VERSION_FILES} FROM model_versions v WHERE model = $1 AND status <> 'DELETED'
    ORDER BY version DESC LIMIT 1`,
};

/** One version with its files, in one round trip (the hot path of GetModelVersion). */
export async function getVersion(db: Queryable, model: string, version: number, includeDeleted = false): Promise<VersionRecord | null> {
  const { rows } = version > 0
    ? await db.query({ ...GET_VERSION, values: [model, version] })
    : await db.query({ ...GET_NEWEST_VERSION, values: [model] });
  const row = rows[0];
  if (!row || (row.status === 'DELETED' && !includeDeleted)) return null;
  return toVersion(row, row.files as StoredFile[]);
}

export async function getFiles(db: Queryable, model: string, version: number): Promise<StoredFile[]> {
  const { rows } = await db.query(
    'SELECT path, size, sha256, executable FROM version_files WHERE model = $1 AND version = $2 ORDER BY path COLLATE "C"',
    [model, version],
  );
  return rows as StoredFile[];
}

export async function listModels(
  db: Queryable,
  q: { pageSize: number; afterName?: string; namePrefix?: string },
): Promise<ModelRecord[]> {
  const { rows } = await db.query(
    `SELECT m.name, m.latest_version, m.create_time, m.update_time,
            (SELECT count(*) FROM model_versions v WHERE v.model = m.name AND v.status <> 'DELETED')::int AS version_count
       FROM models m
      WHERE ($1::text IS NULL OR m.name COLLATE "C" > $1) AND ($2::text = '' OR starts_with(m.name, $2))
      ORDER BY m.name COLLATE "C" LIMIT $3`,
    [q.afterName ?? null, q.namePrefix ?? '', q.pageSize],
  );
  return rows.map((r) => ({
    name: r.name,
    latestVersion: r.latest_version,
    versionCount: r.version_count,
    createTime: r.create_time,
    updateTime: r.update_time,
  }));
}

/** Versions newest first; files included only for versions with few of them (GetModelVersion returns all). */
export async function listVersions(
  db: Queryable,
  q: { model: string; pageSize: number; beforeVersion?: number; statuses: VersionStatus[]; labels: Record<string, string> },
): Promise<VersionRecord[]> {
  const statuses = q.statuses.length ? q.statuses : ['BUILDING', 'RELEASED', 'FAILED'];
  const { rows } = await db.query(
    `SELECT ${VERSION_COLUMNS} FROM model_versions
      WHERE model = $1 AND ($2::bigint IS NULL OR version < $2) AND status = ANY($3::text[]) AND labels @> $4::jsonb
      ORDER BY version DESC LIMIT $5`,
    [q.model, q.beforeVersion ?? null, statuses, JSON.stringify(q.labels), q.pageSize],
  );
  const few = rows.filter((r) => r.file_count <= 100).map((r) => r.version);
  const files = new Map<number, StoredFile[]>();
  if (few.length) {
    const res = await db.query(
      `SELECT version, path, size, sha256, executable FROM version_files WHERE model = $1 AND version = ANY($2::bigint[])
        ORDER BY version, path COLLATE "C"`,
      [q.model, few],
    );
    for (const r of res.rows) {
      const list = files.get(r.version) ?? [];
      list.push({ path: r.path, size: r.size, sha256: r.sha256, executable: r.executable });
      files.set(r.version, list);
    }
  }
  return rows.map((r) => toVersion(r, files.get(r.version) ?? []));
}

export async function modelExists(db: Queryable, model: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM models WHERE name = $1', [model]);
  return (rowCount ?? 0) > 0;
}

/** Marks a version deleted; returns the digests of its files (candidates for collection), or null if absent. */
export async function markDeleted(tx: pg.PoolClient, model: string, version: number): Promise<{ record: VersionRecord; digests: string[] } | null> {
  const { rows } = await tx.query(
    `UPDATE model_versions SET status = 'DELETED', delete_time = now()
      WHERE model = $1 AND version = $2 AND status <> 'DELETED' RETURNING ${VERSION_COLUMNS}`,
    [model, version],
  );
  if (!rows[0]) return null;
  const files = await getFiles(tx, model, version);
  return { record: toVersion(rows[0], files), digests: [...new Set(files.map((f) => f.sha256))] };
}

/** Deleted versions whose blobs no collection has finished for (the delete died or failed half-way), deleted
 * before the cutoff, oldest first, with their files' digests. */
export async function uncollectedDeletions(
  db: Queryable,
  olderThanMs: number,
  limit: number,
): Promise<Array<{ model: string; version: number; digests: string[] }>> {
  const { rows } = await db.query(
    `SELECT v.model, v.version, array_remove(array_agg(DISTINCT f.sha256), NULL) AS digests
       FROM model_versions v LEFT JOIN version_files f USING (model, version)
      WHERE v.status = 'DELETED' AND NOT v.blobs_collected AND v.delete_time < now() - ($1::bigint * interval '1 millisecond')
      GROUP BY v.model, v.version, v.delete_time ORDER BY v.delete_time LIMIT $2`,
    [olderThanMs, limit],
  );
  return rows.map((r) => ({ model: r.model, version: Number(r.version), digests: r.digests }));
}

/** Records that a deleted version's blobs were each collected or found in use by something else. */
export async function markBlobsCollected(db: Queryable, model: string, version: number): Promise<void> {
  await db.query('UPDATE model_versions SET blobs_collected = true WHERE model = $1 AND version = $2', [model, version]);
}

/** Serialises everything that adds or removes a reference to one blob (upload commit, collection). */
export async function lockBlob(tx: pg.PoolClient, sha256: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [sha256]);
}

export async function addPendingBlob(tx: pg.PoolClient, uploadId: string, sha256: string): Promise<void> {
  await tx.query('INSERT INTO pending_blobs (upload_id, sha256) VALUES ($1, $2) ON CONFLICT DO NOTHING', [uploadId, sha256]);
}

/** Marks an upload's pending blobs as seen now: create_time is when the upload last showed it was alive. */
export async function touchPendingUpload(db: Queryable, uploadId: string): Promise<void> {
  await db.query('UPDATE pending_blobs SET create_time = now() WHERE upload_id = $1', [uploadId]);
}

/** The distinct blobs an upload holds references to. */
export async function pendingDigests(db: Queryable, uploadId: string): Promise<string[]> {
  const { rows } = await db.query('SELECT DISTINCT sha256 FROM pending_blobs WHERE upload_id = $1', [uploadId]);
  return rows.map((r) => r.sha256);
}

export async function releasePendingBlob(db: Queryable, uploadId: string, sha256: string): Promise<void> {
  await db.query('DELETE FROM pending_blobs WHERE upload_id = $1 AND sha256 = $2', [uploadId, sha256]);
}

export async function releasePending(db: Queryable, uploadId: string): Promise<string[]> {
  const { rows } = await db.query('DELETE FROM pending_blobs WHERE upload_id = $1 RETURNING sha256', [uploadId]);
  return rows.map((r) => r.sha256);
}

/** Whether a version that is not deleted, or an upload in progress, uses the blob. */
export async function isBlobReferenced(db: Queryable, sha256: string): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT EXISTS (SELECT 1 FROM version_files f JOIN model_versions v USING (model, version)
                     WHERE f.sha256 = $1 AND v.status <> 'DELETED')
         OR EXISTS (SELECT 1 FROM pending_blobs WHERE sha256 = $1) AS used`,
    [sha256],
  );
  return rows[0].used;
}

/** Pending blobs of uploads that died with their process: older than the cutoff. */
export async function stalePendingUploads(db: Queryable, olderThanMs: number): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT DISTINCT upload_id FROM pending_blobs WHERE create_time < now() - ($1::bigint * interval '1 millisecond')`,
    [olderThanMs],
  );
  return rows.map((r) => r.upload_id);
}

export async function setBuildStarted(db: Queryable, model: string, version: number): Promise<void> {
  await db.query(
    `UPDATE model_versions SET build_start_time = coalesce(build_start_time, now())
      WHERE model = $1 AND version = $2 AND status = 'BUILDING'`,
    [model, version],
  );
}

/** Ends a build: RELEASED with its image, or FAILED with the reason. Only a BUILDING version changes. */
export async function setBuildResult(
  db: Queryable,
  model: string,
  version: number,
  result: { imageReference: string; imageDigest: string } | { failureReason: string },
): Promise<boolean> {
  const res = 'failureReason' in result
    ? await db.query(
        `UPDATE model_versions SET status = 'FAILED', failure_reason = $3, build_end_time = now(),
                build_start_time = coalesce(build_start_time, now())
          WHERE model = $1 AND version = $2 AND status = 'BUILDING'`,
        [model, version, result.failureReason],
      )
    : await db.query(
        `UPDATE model_versions SET status = 'RELEASED', image_reference = $3, image_digest = $4, build_end_time = now(),
                build_start_time = coalesce(build_start_time, now())
          WHERE model = $1 AND version = $2 AND status = 'BUILDING'`,
        [model, version, result.imageReference, result.imageDigest],
      );
  return (res.rowCount ?? 0) > 0;
}

export async function appendLogLines(db: Queryable, model: string, version: number, lines: Array<{ number: number; line: string }>): Promise<void> {
  if (!lines.length) return;
  const params: unknown[] = [model, version];
  const values = lines.map((l, i) => {
    params.push(l.number, l.line);
    return `($1, $2, $${3 + i * 2}, $${4 + i * 2})`;
  });
  await db.query(`INSERT INTO build_logs (model, version, number, line) VALUES ${values.join(', ')} ON CONFLICT DO NOTHING`, params);
}

/** The highest build log line number stored for the version (0 when none): a retried build continues after it. */
export async function lastLogLine(db: Queryable, model: string, version: number): Promise<number> {
  const { rows } = await db.query('SELECT coalesce(max(number), 0) AS n FROM build_logs WHERE model = $1 AND version = $2', [model, version]);
  return Number(rows[0].n);
}

export async function logLinesAfter(db: Queryable, model: string, version: number, after: number): Promise<Array<{ number: number; line: string }>> {
  const { rows } = await db.query(
    'SELECT number, line FROM build_logs WHERE model = $1 AND version = $2 AND number > $3 ORDER BY number LIMIT 1000',
    [model, version, after],
  );
  return rows;
}

// Build leases and the build queue's jobs (builds.ts). The jobs are pg-boss's, in its schema: the queries below only
// move an active job back to `retry` with a start time, which pg-boss's own API (fail) can do only with its
// uncapped backoff.

/** pg-boss's schema for the build queue. */
export const BUILD_QUEUE_SCHEMA = 'kiln_queue';

/** Takes the version's build lease for `seconds` when no live lease exists; false when a live owner holds it. */
export async function takeBuildLease(db: Queryable, model: string, version: number, owner: string, jobId: string, seconds: number): Promise<boolean> {
  // A concurrent taker waits on the row and then sees the winner's live lease: exactly one of them gets it.
  const res = await db.query(
    `INSERT INTO build_leases (model, version, owner, job_id, lease_until)
          VALUES ($1, $2, $3, $4, now() + $5 * interval '1 second')
     ON CONFLICT (model, version) DO UPDATE
            SET owner = excluded.owner, job_id = excluded.job_id, lease_until = excluded.lease_until
          WHERE build_leases.lease_until < now()`,
    [model, version, owner, jobId, seconds],
  );
  return (res.rowCount ?? 0) > 0;
}

/** Extends the lease its owner holds; false when the owner lost it (it lapsed and another worker took it). */
export async function renewBuildLease(db: Queryable, model: string, version: number, owner: string, seconds: number): Promise<boolean> {
  const res = await db.query(
    `UPDATE build_leases SET lease_until = now() + $4 * interval '1 second'
      WHERE model = $1 AND version = $2 AND owner = $3`,
    [model, version, owner, seconds],
  );
  return (res.rowCount ?? 0) > 0;
}

export async function releaseBuildLease(db: Queryable, model: string, version: number, owner: string): Promise<void> {
  await db.query('DELETE FROM build_leases WHERE model = $1 AND version = $2 AND owner = $3', [model, version, owner]);
}

/** Puts an active job back in the queue, to start after `delaySeconds`; false when it was not active. */
export async function retryBuildJob(db: Queryable, queue: string, jobId: string, delaySeconds: number): Promise<boolean> {
  const res = await db.query(
    `UPDATE ${BUILD_QUEUE_SCHEMA}.job SET state = 'retry', start_after = now() + $3 * interval '1 second'
      WHERE name = $1 AND id = $2 AND state = 'active'`,
    [queue, jobId, delaySeconds],
  );
  return (res.rowCount ?? 0) > 0;
}

/**
 * Puts back in the queue, to start at once, every active build job whose worker died: started over `graceSeconds`
 * ago, and no live lease on its version (its owner stopped renewing, or died before taking one). Safe to run in
 * every registry at once: a job is moved by one of them.
 */
export async function retryAbandonedBuildJobs(db: Queryable, queue: string, graceSeconds: number): Promise<Array<{ id: string; model: string; version: number }>> {
  const { rows } = await db.query(
    `UPDATE ${BUILD_QUEUE_SCHEMA}.job j SET state = 'retry', start_after = now()
      WHERE j.name = $1 AND j.state = 'active' AND j.started_on < now() - $2 * interval '1 second'
        AND NOT EXISTS (SELECT 1 FROM build_leases l
                         WHERE l.model = j.data->>'model' AND l.version = (j.data->>'version')::bigint AND l.lease_until >= now())
      RETURNING j.id, j.data->>'model' AS model, (j.data->>'version')::bigint AS version`,
    [queue, graceSeconds],
  );
  return rows.map((r) => ({ id: r.id, model: r.model, version: Number(r.version) }));
}

/**
 * Versions still BUILDING, created over `olderThanSeconds` ago, that no build job will ever pick up: none waiting,
 * retrying or running in the queue (pg-boss gave up on it: expired after its last retry, or its row was removed).
 */
export async function orphanedBuilds(db: Queryable, queue: string, olderThanSeconds: number, limit = 100): Promise<Array<{ model: string; version: number }>> {
  const { rows } = await db.query(
    `SELECT v.model, v.version FROM model_versions v
      WHERE v.status = 'BUILDING' AND v.create_time < now() - $2 * interval '1 second'
        AND NOT EXISTS (SELECT 1 FROM ${BUILD_QUEUE_SCHEMA}.job j
                         WHERE j.name = $1 AND j.state IN ('created', 'retry', 'active')
                           AND j.data->>'model' = v.model AND (j.data->>'version')::bigint = v.version)
      ORDER BY v.create_time LIMIT $3`,
    [queue, olderThanSeconds, limit],
  );
  return rows.map((r) => ({ model: r.model, version: Number(r.version) }));
}
