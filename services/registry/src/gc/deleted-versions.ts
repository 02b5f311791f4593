// Collection of a deleted version's blobs: at once by the delete, and by the sweep for deletes that died or failed
// half-way.
import type { Logger } from 'pino';
import { collectBlobs, type GcDeps } from './blobs';

/** Deleted versions whose blobs are still uncollected after this long had their delete die or fail half-way (a
 * delete collects at once: the sweep leaves it the time to). */
export const UNCOLLECTED_DELETE_MS = 10 * 60 * 1000;
const BATCH = 100;

/** Removes a deleted version's blobs that nothing else uses, then records that it is done (until then the sweep
 * retries it). Each blob is checked under its lock, as an upload adds its reference under the same lock, so a blob an
 * upload is re-using at that moment is kept. */
export async function collectDeletedVersion(deps: GcDeps, model: string, version: number, digests: string[], log: Logger): Promise<void> {
  await collectBlobs(deps, digests, log);
  await deps.store.markBlobsCollected(model, version);
}

/** Finishes the collection of every version deleted over `olderThanMs` ago whose blobs are not yet collected;
 * returns how many. */
export async function collectUncollectedDeletions(deps: GcDeps, log: Logger, olderThanMs = UNCOLLECTED_DELETE_MS): Promise<number> {
  let collected = 0;
  for (;;) {
    const batch = await deps.store.uncollectedDeletions(olderThanMs, BATCH);
    for (const d of batch) await collectDeletedVersion(deps, d.model, d.version, d.digests, log.child({ model: d.model, version: d.version }));
    collected += batch.length;
    if (batch.length < BATCH) return collected;
  }
}
