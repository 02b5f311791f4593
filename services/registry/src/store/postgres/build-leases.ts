// Build leases (`build_leases`): which worker builds a version, until when. A worker renews its lease while it
// builds; one that lapsed means its registry died, and the build's job goes back to the queue (build-jobs.ts).
import type { Queryable } from './sql';

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
