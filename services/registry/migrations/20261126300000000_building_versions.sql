-- Up Migration
-- The build watchdog looks for versions left BUILDING without a build job every few seconds: a partial index keeps
-- that a lookup of the few versions building, however many versions the registry holds.

CREATE INDEX model_versions_building ON model_versions (create_time) WHERE status = 'BUILDING';

-- Down Migration
DROP INDEX model_versions_building;
