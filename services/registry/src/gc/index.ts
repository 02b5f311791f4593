// Blob garbage collection and the sweeps of leftovers, one file per housekeeping job: blobs.ts (the one way a blob is
// removed), uploads.ts (what uploads leave, by their leases), deleted-versions.ts (a deleted version's blobs),
// sweep.ts (crash recovery while serving).
export { collectBlobs, type CollectableBlobs, type GcDeps } from './blobs';
export { releaseLapsedUploads, releaseStaleUploads, releaseUpload, STALE_UPLOAD_MS, type UploadBlobs, type UploadGcDeps } from './uploads';
export { collectDeletedVersion, collectUncollectedDeletions, UNCOLLECTED_DELETE_MS } from './deleted-versions';
export { startSweeping, sweepLapsedUploads, sweepLeftovers, SWEEP_INTERVAL_MS, type SweepDeps, type SweepSchedule } from './sweep';
