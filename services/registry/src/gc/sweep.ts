// Crash recovery, at start and hourly while serving: the leftovers of puts, uploads and deletes whose process died.
import type { Logger } from 'pino';
import type { GcDeps } from './blobs';
import { collectUncollectedDeletions } from './deleted-versions';
import { releaseStaleUploads, STALE_UPLOAD_MS } from './uploads';

/** How often a registry sweeps for such leftovers (and once at start): other replicas' crashes leave them too. */
export const SWEEP_INTERVAL_MS = 3600 * 1000;

export interface SweepDeps extends GcDeps {
  /** The blob store's own leftovers (temp objects, open multipart uploads) older than the cutoff; returns how many. */
  blobs: GcDeps['blobs'] & { cleanupIncomplete(olderThanMs: number): Promise<number> };
}

/**
 * Temp objects of puts that never finished, uploads that never committed, and blobs of deleted versions whose
 * delete did not finish collecting them. It runs beside serving, not before it: on a large bucket the listing takes a
 * while, and it only touches leftovers minutes or hours old. Concurrent sweeps by several replicas are safe (deletes
 * are idempotent, blobs are collected under their lock, which uploads take to add a reference, so a blob an upload
 * is re-using is kept).
 */
export async function sweepLeftovers(deps: SweepDeps, log: Logger): Promise<void> {
  const removed = await deps.blobs.cleanupIncomplete(STALE_UPLOAD_MS);
  const uploads = await releaseStaleUploads(deps, log);
  const deletions = await collectUncollectedDeletions(deps, log);
  if (removed || uploads || deletions) {
    log.info({ leftovers: removed, uploads, deletions }, 'swept leftovers of uploads and deletes that died');
  }
}

/** Sweeps now and every SWEEP_INTERVAL_MS, one sweep at a time; `stop` ends the timer and waits for a sweep running. */
export function startSweeping(deps: SweepDeps, log: Logger, intervalMs = SWEEP_INTERVAL_MS): { stop(): Promise<void> } {
  let sweeping: Promise<void> | undefined;
  const sweep = () => {
    sweeping ??= sweepLeftovers(deps, log)
      .catch((err) => log.error({ err }, 'sweeping leftovers failed; the next sweep tries again'))
      .finally(() => (sweeping = undefined));
  };
  sweep();
  const timer = setInterval(sweep, intervalMs).unref();
  return {
    async stop() {
      clearInterval(timer);
      await sweeping;
    },
  };
}
