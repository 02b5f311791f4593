// Blob garbage collection and the sweeps of leftovers, one file per housekeeping job: blobs.ts (the one way a blob is
// removed), uploads.ts (what uploads leave), deleted-versions.ts (a deleted version's blobs), sweep.ts (crash
// recovery at start and hourly).
export { collectBlobs, type CollectableBlobs, type GcDeps } from './blobs';
export { releaseStaleUploads, releaseUpload, STALE_UPLOAD_MS } from './uploads';
export { collectDeletedVersion, collectUncollectedDeletions, UNCOLLECTED_DELETE_MS } from './deleted-versions';
export { startSweeping, sweepLeftovers, SWEEP_INTERVAL_MS, type SweepDeps } from './sweep';
