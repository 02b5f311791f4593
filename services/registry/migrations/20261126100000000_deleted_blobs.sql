-- Up Migration
-- Whether a deleted version's blobs have been collected. A delete collects them at once; when it dies or fails
-- half-way (a crash, an S3 error), the registry's periodic sweep finds the version here and finishes the job.
-- Versions deleted before this column existed start uncollected, so the first sweep also collects their leftovers.
ALTER TABLE model_versions ADD COLUMN blobs_collected boolean NOT NULL DEFAULT false;
CREATE INDEX model_versions_uncollected ON model_versions (delete_time) WHERE status = 'DELETED' AND NOT blobs_collected;

-- Down Migration
DROP INDEX model_versions_uncollected;
ALTER TABLE model_versions DROP COLUMN blobs_collected;
