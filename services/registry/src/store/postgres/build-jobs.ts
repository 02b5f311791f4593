// The only module that knows pg-boss's schema: its job table and its state names. The build queue (builds.ts) goes
// through pg-boss's API for everything else; these queries move an active job back to `retry` with a start time
// (pg-boss's own `fail` can do it only with its uncapped backoff) and find versions no job will build.
import { AWAITING_BUILD } from './versions';
import type { Queryable } from './sql';

/** pg-boss's schema for the build queue. */
export const BUILD_QUEUE_SCHEMA = 'kiln_queue';
const JOBS = `${BUILD_QUEUE_SCHEMA}.job`;

/** pg-boss's job states, by what they mean here. */
const WAITING = 'created';
const RETRYING = 'retry';
const RUNNING = 'active';

/** Puts an active job back in the queue, to start after `delaySeconds`; false when it was not active. */
export async function retryBuildJob(db: Queryable, queue: string, jobId: string, delaySeconds: number): Promise<boolean> {
  const res = await db.query(
    `UPDATE ${JOBS} SET state = '${RETRYING}', start_after = now() + $3 * interval '1 second'
      WHERE name = $1 AND id = $2 AND state = '${RUNNING}'`,
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
    `UPDATE ${JOBS} j SET state = '${RETRYING}', start_after = now()
      WHERE j.name = $1 AND j.state = '${RUNNING}' AND j.started_on < now() - $2 * interval '1 second'
        AND NOT EXISTS (SELECT 1 FROM build_leases l
                         WHERE l.model = j.data->>'model' AND l.version = (j.data->>'version')::bigint AND l.lease_until >= now())
      RETURNING j.id, j.data->>'model' AS model, (j.data->>'version')::bigint AS version`,
    [queue, graceSeconds],
  );
  return rows.map((r) => ({ id: r.id, model: r.model, version: Number(r.version) }));
}

/**
 * Versions still awaiting their build, created over `olderThanSeconds` ago, that no build job will ever pick up: none
 * waiting, retrying or running in the queue (pg-boss gave up on it: expired after its last retry, or its row was
 * removed).
 */
export async function orphanedBuilds(db: Queryable, queue: string, olderThanSeconds: number, limit = 100): Promise<Array<{ model: string; version: number }>> {
  const { rows } = await db.query(
    `SELECT v.model, v.version FROM model_versions v
      WHERE ${AWAITING_BUILD} AND v.create_time < now() - $2 * interval '1 second'
        AND NOT EXISTS (SELECT 1 FROM ${JOBS} j
                         WHERE j.name = $1 AND j.state IN ('${WAITING}', '${RETRYING}', '${RUNNING}')
                           AND j.data->>'model' = v.model AND (j.data->>'version')::bigint = v.version)
      ORDER BY v.create_time LIMIT $3`,
    [queue, olderThanSeconds, limit],
  );
  return rows.map((r) => ({ model: r.model, version: Number(r.version) }));
}
