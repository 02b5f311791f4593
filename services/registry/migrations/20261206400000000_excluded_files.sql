-- Up Migration
-- The files an upload held that its manifest's payload left out (not stored): the first of them by name, and how
-- many, so that the version says what was dropped.

ALTER TABLE model_versions ADD COLUMN excluded_paths text[] NOT NULL DEFAULT '{}';
ALTER TABLE model_versions ADD COLUMN excluded_file_count integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE model_versions DROP COLUMN excluded_file_count;
ALTER TABLE model_versions DROP COLUMN excluded_paths;
