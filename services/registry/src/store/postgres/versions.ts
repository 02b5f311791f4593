// Models, their versions and the versions' files in Postgres. Every status change is guarded by the lifecycle's
// table: an update moves only a version in a status the change is allowed from.
import type pg from 'pg';
import { awaitsBuild, INITIAL_STATUS, isVisible, STATUSES, statusesBefore, VISIBLE_STATUSES, type VersionStatus } from '../../lifecycle';
import type { BuildResult, ModelRecord, ModelsQuery, NewVersion, StoredFile, VersionRecord } from '../index';
import { namespaceOf } from '../../names';
import { statusIn, type Queryable } from './sql';
import { byPath } from '@kiln/std';

const VERSION_COLUMNS = `model, version, status, failure_reason, create_time, total_size, file_count, manifest, labels,
  metadata, contract, runtime, image_reference, image_digest, build_start_time, build_end_time, delete_time, description,
  excluded_paths, excluded_file_count`;

/** A version's aliases, for a select from `model_versions v`. */
const VERSION_ALIASES = `(SELECT coalesce(array_agg(a.alias ORDER BY a.alias COLLATE "C"), '{}') FROM model_aliases a
    WHERE a.model = v.model AND a.version = v.version) AS aliases`;

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
    aliases: row.aliases ?? [],
    description: row.description,
    excludedPaths: row.excluded_paths ?? [],
    excludedFileCount: row.excluded_file_count ?? 0,
  };
}

/** Creates version N+1 of the model inside the caller's transaction. The row lock taken by the UPDATE on the
 * model serialises concurrent uploads of one name, and a rolled-back transaction rolls its number back too, so
 * numbers are gapless and unique. */
export async function insertVersion(tx: pg.PoolClient, v: NewVersion): Promise<VersionRecord> {
  await tx.query('INSERT INTO models (name, namespace) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [v.model, namespaceOf(v.model)]);
  const { rows } = await tx.query(
    'UPDATE models SET latest_version = latest_version + 1, update_time = now() WHERE name = $1 RETURNING latest_version',
    [v.model],
  );
  const version: number = rows[0].latest_version;
  const files = [...v.files].sort(byPath);
  const totalSize = files.reduce((sum, f) => sum + f.size, 0);
  const inserted = await tx.query(
    `INSERT INTO model_versions (model, version, status, total_size, file_count, manifest, labels, metadata, contract, runtime,
       excluded_paths, excluded_file_count)
     VALUES ($1, $2, $10, $3, $4, $5, $6, $7, $8, $9, $11, $12) RETURNING ${VERSION_COLUMNS}`,
    [v.model, version, totalSize, files.length, v.manifest, v.labels, v.metadata, v.contract ? JSON.stringify(v.contract) : null, v.runtime, INITIAL_STATUS,
      v.excluded?.paths ?? [], v.excluded?.count ?? 0],
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
  text: `SELECT ${VERSION_COLUMNS}, ${VERSION_FILES}, ${VERSION_ALIASES} FROM model_versions v WHERE model = $1 AND version = $2`,
};
const GET_NEWEST_VERSION = {
  name: 'kiln_get_newest_version',
  text: `SELECT ${VERSION_COLUMNS}, ${VERSION_FILES}, ${VERSION_ALIASES} FROM model_versions v WHERE model = $1 AND ${statusIn(VISIBLE_STATUSES)}
    ORDER BY version DESC LIMIT 1`,
};

/** One version with its files, in one round trip (the hot path of GetModelVersion). */
export async function getVersion(db: Queryable, model: string, version: number, includeDeleted = false): Promise<VersionRecord | null> {
  const { rows } = version > 0
    ? await db.query({ ...GET_VERSION, values: [model, version] })
    : await db.query({ ...GET_NEWEST_VERSION, values: [model] });
  const row = rows[0];
  if (!row || (!isVisible(row.status) && !includeDeleted)) return null;
  return toVersion(row, row.files as StoredFile[]);
}

export async function getFiles(db: Queryable, model: string, version: number): Promise<StoredFile[]> {
  const { rows } = await db.query(
    'SELECT path, size, sha256, executable FROM version_files WHERE model = $1 AND version = $2 ORDER BY path COLLATE "C"',
    [model, version],
  );
  return rows as StoredFile[];
}

export async function listModels(db: Queryable, q: ModelsQuery): Promise<ModelRecord[]> {
  const { rows } = await db.query(
    `SELECT m.name, m.create_time, m.update_time,
            (SELECT count(*) FROM model_versions v WHERE v.model = m.name AND ${statusIn(VISIBLE_STATUSES, 'v.status')})::int AS version_count,
            -- "latest" is the newest version that is not deleted, as GetModelVersion's version 0 (models.latest_version
            -- numbers the next upload, deleted versions included).
            coalesce((SELECT max(v.version) FROM model_versions v WHERE v.model = m.name AND ${statusIn(VISIBLE_STATUSES, 'v.status')}), 0) AS latest_version
       FROM models m
      WHERE ($1::text IS NULL OR m.name COLLATE "C" > $1) AND ($2::text = '' OR starts_with(m.name, $2))
        AND ($4::text IS NULL OR m.namespace = $4)
      ORDER BY m.name COLLATE "C" LIMIT $3`,
    [q.afterName ?? null, q.namePrefix ?? '', q.pageSize, q.namespace ?? null],
  );
  return rows.map((r) => ({
    name: r.name,
    latestVersion: Number(r.latest_version),
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
  const statuses = q.statuses.length ? q.statuses : VISIBLE_STATUSES;
  const { rows } = await db.query(
    `SELECT ${VERSION_COLUMNS}, ${VERSION_ALIASES} FROM model_versions v
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

export async function lockVersion(tx: pg.PoolClient, model: string, version: number): Promise<VersionRecord | null> {
  const { rows } = await tx.query(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = $1 AND version = $2 FOR SHARE`, [model, version]);
  return rows[0] ? toVersion(rows[0], []) : null;
}

export async function updateVersion(
  tx: pg.PoolClient, model: string, version: number, change: { setLabels: Record<string, string>; removeLabels: string[]; description?: string },
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE model_versions SET labels = (labels - $3::text[]) || $4::jsonb, description = coalesce($5, description)
      WHERE model = $1 AND version = $2 AND ${statusIn(VISIBLE_STATUSES)}`,
    [model, version, change.removeLabels, JSON.stringify(change.setLabels), change.description ?? null],
  );
  return (rowCount ?? 0) > 0;
}

/** Marks a version deleted; returns the digests of its files (candidates for collection), or null if absent. */
export async function markDeleted(tx: pg.PoolClient, model: string, version: number): Promise<{ record: VersionRecord; digests: string[] } | null> {
  const { rows } = await tx.query(
    `UPDATE model_versions SET status = 'DELETED', delete_time = now()
      WHERE model = $1 AND version = $2 AND ${statusIn(statusesBefore('DELETED'))} RETURNING ${VERSION_COLUMNS}`,
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
      WHERE ${statusIn(['DELETED'], 'v.status')} AND NOT v.blobs_collected AND v.delete_time < now() - ($1::bigint * interval '1 millisecond')
      GROUP BY v.model, v.version, v.delete_time ORDER BY v.delete_time LIMIT $2`,
    [olderThanMs, limit],
  );
  return rows.map((r) => ({ model: r.model, version: Number(r.version), digests: r.digests }));
}

/** Records that a deleted version's blobs were each collected or found in use by something else. */
export async function markBlobsCollected(db: Queryable, model: string, version: number): Promise<void> {
  await db.query('UPDATE model_versions SET blobs_collected = true WHERE model = $1 AND version = $2', [model, version]);
}

/** The statuses whose versions a build works on. */
const BUILDABLE = STATUSES.filter(awaitsBuild);

export async function setBuildStarted(db: Queryable, model: string, version: number): Promise<void> {
  await db.query(
    `UPDATE model_versions SET build_start_time = coalesce(build_start_time, now())
      WHERE model = $1 AND version = $2 AND ${statusIn(BUILDABLE)}`,
    [model, version],
  );
}

/** Ends a build: RELEASED with its image, or FAILED with the reason. Only a version the lifecycle lets move changes. */
export async function setBuildResult(db: Queryable, model: string, version: number, result: BuildResult): Promise<boolean> {
  const res = 'failureReason' in result
    ? await db.query(
        `UPDATE model_versions SET status = 'FAILED', failure_reason = $3, build_end_time = now(),
                build_start_time = coalesce(build_start_time, now())
          WHERE model = $1 AND version = $2 AND ${statusIn(statusesBefore('FAILED'))}`,
        [model, version, result.failureReason],
      )
    : await db.query(
        `UPDATE model_versions SET status = 'RELEASED', image_reference = $3, image_digest = $4, build_end_time = now(),
                build_start_time = coalesce(build_start_time, now())
          WHERE model = $1 AND version = $2 AND ${statusIn(statusesBefore('RELEASED'))}`,
        [model, version, result.imageReference, result.imageDigest],
      );
  return (res.rowCount ?? 0) > 0;
}

/** The versions awaiting a build (the build watchdog's candidates), as SQL over `model_versions v`. */
export const AWAITING_BUILD = statusIn(BUILDABLE, 'v.status');
