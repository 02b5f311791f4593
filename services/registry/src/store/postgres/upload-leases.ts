// Upload leases (`upload_leases`) and what each upload has open in the blob store (`staged_objects`): an upload
// renews its lease while it runs; once it lapsed (the registry died) a sweep claims the upload and removes its
// leftovers by name.
import type { StagedObjectRecord } from '../index';
import type { Queryable } from './sql';

/** `now()` plus the milliseconds in parameter `p`. */
const fromNow = (p: string) => `now() + ${p}::bigint * interval '1 millisecond'`;

export async function takeUploadLease(db: Queryable, uploadId: string, leaseMs: number): Promise<void> {
  await db.query(`INSERT INTO upload_leases (upload_id, lease_until) VALUES ($1, ${fromNow('$2')})`, [uploadId, leaseMs]);
}

/** False once a sweep has claimed the upload: its leftovers are being removed, so it must not go on. */
export async function renewUploadLease(db: Queryable, uploadId: string, leaseMs: number): Promise<boolean> {
  const res = await db.query(
    `UPDATE upload_leases SET lease_until = ${fromNow('$2')} WHERE upload_id = $1 AND NOT claimed`,
    [uploadId, leaseMs],
  );
  return (res.rowCount ?? 0) > 0;
}

/** Claims lapsed uploads for `leaseMs`: concurrent sweeps skip each other's rows, so each upload goes to one. */
export async function claimLapsedUploads(db: Queryable, leaseMs: number, limit: number): Promise<string[]> {
  const { rows } = await db.query(
    `UPDATE upload_leases SET claimed = true, lease_until = ${fromNow('$1')}
      WHERE upload_id IN (SELECT upload_id FROM upload_leases WHERE lease_until < now()
                           ORDER BY lease_until LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING upload_id`,
    [leaseMs, limit],
  );
  return rows.map((r) => r.upload_id);
}

/** Ends the lease unless the upload still holds staged objects or pending blobs (those keep it for the sweep). */
export async function endUploadLease(db: Queryable, uploadId: string): Promise<boolean> {
  const res = await db.query(
    `DELETE FROM upload_leases l WHERE upload_id = $1
        AND NOT EXISTS (SELECT 1 FROM staged_objects s WHERE s.upload_id = l.upload_id)
        AND NOT EXISTS (SELECT 1 FROM pending_blobs p WHERE p.upload_id = l.upload_id)`,
    [uploadId],
  );
  return (res.rowCount ?? 0) > 0;
}

export async function recordStagedObject(db: Queryable, uploadId: string, object: StagedObjectRecord): Promise<void> {
  await db.query(
    `INSERT INTO staged_objects (upload_id, key, multipart_upload_id, sha256) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING`,
    [uploadId, object.key, object.multipartUploadId ?? '', object.sha256 ?? null],
  );
}

export async function setStagedDigest(db: Queryable, uploadId: string, key: string, sha256: string): Promise<void> {
  await db.query('UPDATE staged_objects SET sha256 = $3 WHERE upload_id = $1 AND key = $2', [uploadId, key, sha256]);
}

export async function stagedObjects(db: Queryable, uploadId: string): Promise<StagedObjectRecord[]> {
  const { rows } = await db.query(
    'SELECT key, multipart_upload_id, sha256 FROM staged_objects WHERE upload_id = $1 ORDER BY key, multipart_upload_id DESC',
    [uploadId],
  );
  return rows.map((r) => ({
    key: r.key,
    ...(r.multipart_upload_id && { multipartUploadId: r.multipart_upload_id }),
    ...(r.sha256 && { sha256: r.sha256 }),
  }));
}

export async function forgetStagedObjects(db: Queryable, uploadId: string, key: string): Promise<void> {
  await db.query('DELETE FROM staged_objects WHERE upload_id = $1 AND key = $2', [uploadId, key]);
}
