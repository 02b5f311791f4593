// Collection of what uploads leave: the blobs an upload referenced while in progress, released when it ends (and,
// for uploads that died with their process, by the sweep).
import type { Logger } from 'pino';
import { collectBlobs, type GcDeps } from './blobs';

/** Uploads older than this with pending blobs died with their process: their leftovers are collected. */
export const STALE_UPLOAD_MS = 6 * 3600 * 1000;

/** Drops an upload's pending references and removes the blobs that no version or other upload uses. Each reference
 * goes in the same transaction as its blob's collection: a crash or a failed delete in between keeps the reference,
 * so the sweep of stale uploads finds the blob again (dropping every reference first would leave such a blob
 * unreferenced and unfindable). */
export async function releaseUpload(deps: GcDeps, uploadId: string, log: Logger): Promise<void> {
  const digests = await deps.store.pendingDigests(uploadId);
  await collectBlobs(deps, digests, log, (tx, digest) => tx.releasePendingBlob(uploadId, digest));
  await deps.store.releasePending(uploadId); // rows added after the listing (none once the upload has ended)
}

/** Releases the uploads not marked alive for STALE_UPLOAD_MS (their process died); returns how many. */
export async function releaseStaleUploads(deps: GcDeps, log: Logger, olderThanMs = STALE_UPLOAD_MS): Promise<number> {
  const stale = await deps.store.stalePendingUploads(olderThanMs);
  for (const uploadId of stale) await releaseUpload(deps, uploadId, log);
  return stale.length;
}
