// Collection of what uploads leave: what an upload still has open in the blob store and the blobs it referenced while
// in progress, released when it ends, and, for uploads whose lease lapsed (their registry died), by the sweep.
import type { Logger } from 'pino';
import type { StagingObject } from '@kiln/blobstore';
import { collectBlobs, type CollectableBlobs, type GcDeps } from './blobs';

/** Pending blobs this old of an upload without a lease (from a registry older than leases) died with their process. */
export const STALE_UPLOAD_MS = 6 * 3600 * 1000;
/** Lapsed uploads claimed per query. */
const BATCH = 100;

/** What releasing an upload needs of the blob store. */
export interface UploadBlobs extends CollectableBlobs {
  discardStaging(object: StagingObject, digest?: string): Promise<void>;
}

export interface UploadGcDeps extends GcDeps {
  blobs: UploadBlobs;
}

/**
 * Ends an upload: removes what it still has open in the blob store (by the names it recorded: multipart uploads
 * aborted by id, staged objects deleted, a committed one left to its blob), drops its pending references while
 * collecting the blobs no version or other upload uses, then ends its lease. Each reference goes in the same
 * transaction as its blob's collection, and each record only once its object is gone: a crash or a failure in between
 * keeps them and the lease, so the sweep finds them again once the lease lapses.
 */
export async function releaseUpload(deps: UploadGcDeps, uploadId: string, log: Logger): Promise<void> {
  const staged = await deps.store.stagedObjects(uploadId);
  for (const [i, object] of staged.entries()) {
    await deps.blobs.discardStaging(object, object.sha256);
    // Records come grouped by key: the key is forgotten after its last one.
    if (staged[i + 1]?.key !== object.key) await deps.store.forgetStagedObjects(uploadId, object.key);
  }
  const digests = await deps.store.pendingDigests(uploadId);
  await collectBlobs(deps, digests, log, (tx, digest) => tx.releasePendingBlob(uploadId, digest));
  await deps.store.releasePending(uploadId); // rows added after the listing (none once the upload has ended)
  await deps.store.endUploadLease(uploadId);
  if (staged.length) log.debug({ staged: staged.length }, 'upload\'s staged objects removed');
}

/**
 * Releases the uploads whose lease lapsed (their registry died or lost touch with the database for a lease period).
 * Each is claimed first, for `claimMs`: concurrent sweeps by other registries skip it, and should this one die or
 * fail half-way, the claim lapses and another sweep takes it over. Returns how many were released.
 */
export async function releaseLapsedUploads(deps: UploadGcDeps, claimMs: number, log: Logger): Promise<number> {
  let released = 0;
  for (;;) {
    const claimed = await deps.store.claimLapsedUploads(claimMs, BATCH);
    for (const uploadId of claimed) {
      try {
        await releaseUpload(deps, uploadId, log.child({ upload: uploadId }));
        released += 1;
      } catch (err) {
        log.warn({ err, upload: uploadId }, 'could not release a dead upload\'s leftovers yet; a later sweep tries again');
      }
    }
    // A failed one stays claimed for claimMs, so the next claim does not return it again.
    if (claimed.length < BATCH) return released;
  }
}

/** Releases uploads without a lease whose pending blobs are STALE_UPLOAD_MS old (their process died); returns how many. */
export async function releaseStaleUploads(deps: UploadGcDeps, log: Logger, olderThanMs = STALE_UPLOAD_MS): Promise<number> {
  const stale = await deps.store.stalePendingUploads(olderThanMs);
  for (const uploadId of stale) await releaseUpload(deps, uploadId, log);
  return stale.length;
}
