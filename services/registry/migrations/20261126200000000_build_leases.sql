-- Up Migration
-- Which registry runs a version's build, until when: the worker renews its lease while the build runs, so a lease
-- that lapsed means its registry died, and any registry's watchdog hands the build's job back to the queue at once
-- (instead of after pg-boss's expiry). Taking a lease only when none is live keeps two workers off one version.

CREATE TABLE build_leases (
  model        text        NOT NULL,
  version      bigint      NOT NULL,
  owner        text        NOT NULL,
  job_id       uuid        NOT NULL,
  lease_until  timestamptz NOT NULL,
  PRIMARY KEY (model, version),
  FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
);

-- Down Migration
DROP TABLE build_leases;
