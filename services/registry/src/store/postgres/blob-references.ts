// What keeps a blob alive, in Postgres: the files of versions not deleted, and the pending blobs of uploads in
// progress (`pending_blobs`), with the per-blob lock under which references are added and blobs collected.
import type pg from 'pg';
import { VISIBLE_STATUSES } from '../../lifecycle';
import { statusIn, type Queryable } from './sql';

/** Serialises everything that adds or removes a reference to one blob (upload commit, collection). */
export async function lockBlob(tx: pg.PoolClient, sha256: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [sha256]);
}

export async function addPendingBlob(db: Queryable, uploadId: string, sha256: string): Promise<void> {
  await db.query('INSERT INTO pending_blobs (upload_id, sha256) VALUES ($1, $2) ON CONFLICT DO NOTHING', [uploadId, sha256]);
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
                     WHERE f.sha256 = $1 AND ${statusIn(VISIBLE_STATUSES, 'v.status')})
         OR EXISTS (SELECT 1 FROM pending_blobs WHERE sha256 = $1) AS used`,
    [sha256],
  );
  return rows[0].used;
}

/** Pending blobs older than the cutoff of uploads without a lease (from before leases): they died with their
 * process. An upload with a lease is the lease's to release. */
export async function stalePendingUploads(db: Queryable, olderThanMs: number): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT DISTINCT upload_id FROM pending_blobs p
      WHERE create_time < now() - ($1::bigint * interval '1 millisecond')
        AND NOT EXISTS (SELECT 1 FROM upload_leases l WHERE l.upload_id = p.upload_id)`,
    [olderThanMs],
  );
  return rows.map((r) => r.upload_id);
}
