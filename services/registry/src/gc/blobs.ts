// The one way a blob leaves the blob store: removed only once nothing references it, checked under its lock.
import type { Logger } from 'pino';
import type { RegistryStore, StoreTransaction } from '../store';

/** What collection needs of the blob store. */
export interface CollectableBlobs {
  delete(digest: string): Promise<void>;
}

export interface GcDeps {
  store: RegistryStore;
  blobs: CollectableBlobs;
}

/** Removes each blob that nothing references, under the blob's lock so a concurrent upload cannot lose it; `before`
 * runs first in the same transaction (dropping the caller's own reference). Returns how many were removed. */
export async function collectBlobs(
  deps: GcDeps,
  digests: string[],
  log: Logger,
  before?: (tx: StoreTransaction, digest: string) => Promise<void>,
): Promise<number> {
  let removed = 0;
  for (const digest of digests) {
    await deps.store.inTransaction(async (tx) => {
      await tx.lockBlob(digest);
      await before?.(tx, digest);
      if (await tx.isBlobReferenced(digest)) return;
      await deps.blobs.delete(digest);
      removed += 1;
    });
  }
  if (removed) log.debug({ removed }, 'blobs collected');
  return removed;
}
