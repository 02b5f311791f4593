// Crash recovery while serving: dead uploads' leftovers once their lease lapses (every half lease), and hourly (and
// at start) a backstop for what predates the records, plus the blobs of deletes that died.
import type { Logger } from 'pino';
import { collectUncollectedDeletions } from './deleted-versions';
import { releaseLapsedUploads, releaseStaleUploads, STALE_UPLOAD_MS, type UploadGcDeps } from './uploads';

/** How often a registry runs the backstop sweep (and once at start): other replicas' crashes leave leftovers too. */
export const SWEEP_INTERVAL_MS = 3600 * 1000;

export interface SweepDeps extends UploadGcDeps {
  /** The blob store's own leftovers (temp objects, open multipart uploads) older than the cutoff; returns how many. */
  blobs: UploadGcDeps['blobs'] & { cleanupIncomplete(olderThanMs: number): Promise<number> };
}

/**
 * The backstop: what a listing finds of puts that never finished (from before uploads recorded what they open, or
 * written by other means), uploads without a lease that never committed, and blobs of deleted versions whose delete
 * did not finish collecting them. It runs beside serving, not before it: on a large bucket the listing takes a while,
 * and it only touches leftovers minutes or hours old. Concurrent sweeps by several replicas are safe (deletes are
 * idempotent, blobs are collected under their lock, which uploads take to add a reference, so a blob an upload is
 * re-using is kept).
 */
export async function sweepLeftovers(deps: SweepDeps, log: Logger): Promise<void> {
  const removed = await deps.blobs.cleanupIncomplete(STALE_UPLOAD_MS);
  const uploads = await releaseStaleUploads(deps, log);
  const deletions = await collectUncollectedDeletions(deps, log);
  if (removed || uploads || deletions) {
    log.info({ leftovers: removed, uploads, deletions }, 'swept leftovers of uploads and deletes that died');
  }
}

/** The leftovers of uploads whose lease lapsed, by the names they recorded: no listing, so it runs often. */
export async function sweepLapsedUploads(deps: UploadGcDeps, uploadLeaseMs: number, log: Logger): Promise<void> {
  const uploads = await releaseLapsedUploads(deps, uploadLeaseMs, log);
  if (uploads) log.info({ uploads }, 'swept the leftovers of uploads whose lease lapsed');
}

export interface SweepSchedule {
  /** Uploads' lease (KILN_UPLOAD_LEASE_SECONDS): lapsed ones are swept every half of it. */
  uploadLeaseMs: number;
  /** The backstop's period (default SWEEP_INTERVAL_MS). */
  intervalMs?: number;
  /** Retries aliases' pending image tags (aliases.ts), every TAG_RETRY_MS. */
  retryTags?: () => Promise<unknown>;
}

/** How often pending alias tags are looked for: a tag a registry could not move follows its alias within seconds of
 * the registry coming back. */
export const TAG_RETRY_MS = 5000;

/** The sweeps (and the tag retries), now and then periodically, each one run at a time; `stop` ends the timers and waits for running ones. */
export function startSweeping(deps: SweepDeps, log: Logger, schedule: SweepSchedule): { stop(): Promise<void> } {
  const jobs = [
    repeat(() => sweepLapsedUploads(deps, schedule.uploadLeaseMs, log), schedule.uploadLeaseMs / 2, log),
    repeat(() => sweepLeftovers(deps, log), schedule.intervalMs ?? SWEEP_INTERVAL_MS, log),
    ...(schedule.retryTags ? [repeat(async () => void (await schedule.retryTags!()), TAG_RETRY_MS, log)] : []),
  ];
  return {
    async stop() {
      await Promise.all(jobs.map((j) => j.stop()));
    },
  };
}

function repeat(sweep: () => Promise<void>, intervalMs: number, log: Logger): { stop(): Promise<void> } {
  let sweeping: Promise<void> | undefined;
  const run = () => {
    sweeping ??= sweep()
      .catch((err) => log.error({ err }, 'sweeping leftovers failed; the next sweep tries again'))
      .finally(() => (sweeping = undefined));
  };
  run();
  const timer = setInterval(run, intervalMs).unref();
  return {
    async stop() {
      clearInterval(timer);
      await sweeping;
    },
  };
}
