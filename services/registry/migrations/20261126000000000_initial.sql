-- Up Migration
-- Models, their immutable versions, the files of each version, and the blobs an upload has stored but not yet
-- committed (so a failed upload or a delete can remove exactly the blobs nothing else uses).

CREATE TABLE models (
  name            text PRIMARY KEY,
  latest_version  bigint      NOT NULL DEFAULT 0,
  create_time     timestamptz NOT NULL DEFAULT now(),
  update_time     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE model_versions (
  model             text        NOT NULL REFERENCES models (name),
  version           bigint      NOT NULL,
  status            text        NOT NULL CHECK (status IN ('BUILDING', 'RELEASED', 'FAILED', 'DELETED')),
  failure_reason    text        NOT NULL DEFAULT '',
  create_time       timestamptz NOT NULL DEFAULT now(),
  total_size        bigint      NOT NULL,
  file_count        integer     NOT NULL,
  manifest          text        NOT NULL DEFAULT '',
  labels            jsonb       NOT NULL DEFAULT '{}',
  metadata          jsonb       NOT NULL DEFAULT '{}',
  contract          jsonb,
  runtime           text        NOT NULL DEFAULT '',
  image_reference   text        NOT NULL DEFAULT '',
  image_digest      text        NOT NULL DEFAULT '',
  build_start_time  timestamptz,
  build_end_time    timestamptz,
  delete_time       timestamptz,
  PRIMARY KEY (model, version)
);
CREATE INDEX model_versions_labels ON model_versions USING gin (labels jsonb_path_ops);

CREATE TABLE version_files (
  model       text    NOT NULL,
  version     bigint  NOT NULL,
  path        text    NOT NULL,
  size        bigint  NOT NULL,
  sha256      text    NOT NULL,
  executable  boolean NOT NULL DEFAULT false,
  PRIMARY KEY (model, version, path),
  FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
);
CREATE INDEX version_files_sha256 ON version_files (sha256);

-- A blob an upload in progress has stored: it must not be collected until the upload commits or gives up.
CREATE TABLE pending_blobs (
  upload_id    uuid        NOT NULL,
  sha256       text        NOT NULL,
  create_time  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (upload_id, sha256)
);
CREATE INDEX pending_blobs_sha256 ON pending_blobs (sha256);

CREATE TABLE build_logs (
  model    text   NOT NULL,
  version  bigint NOT NULL,
  number   bigint NOT NULL,
  line     text   NOT NULL,
  PRIMARY KEY (model, version, number),
  FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
);

-- Down Migration
DROP TABLE build_logs;
DROP TABLE pending_blobs;
DROP TABLE version_files;
DROP TABLE model_versions;
DROP TABLE models;
