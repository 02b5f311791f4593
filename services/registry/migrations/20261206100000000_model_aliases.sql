-- Up Migration
-- Aliases (`fraud@production`): one row per alias, pointing at one version (RELEASED when set: the registry's rule,
-- lifecycle.ts), with the state of the image tag that follows it; every move kept in alias_moves. Versions gain a
-- description, editable like their labels.

ALTER TABLE model_versions ADD COLUMN description text NOT NULL DEFAULT '';

CREATE TABLE model_aliases (
  model             text        NOT NULL,
  alias             text        NOT NULL,
  version           bigint      NOT NULL,
  protected         boolean     NOT NULL DEFAULT false,
  update_time       timestamptz NOT NULL DEFAULT now(),
  updated_by        text        NOT NULL,
  -- The image tag is moved after the alias commits; until it is, it is pending and retried.
  tag_pending       boolean     NOT NULL DEFAULT true,
  tag_error         text        NOT NULL DEFAULT '',
  tag_attempt_time  timestamptz,
  PRIMARY KEY (model, alias),
  FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
);

-- A version's aliases (its view, and the guard on its delete).
CREATE INDEX model_aliases_by_version ON model_aliases (model, version);
CREATE INDEX model_aliases_tag_pending ON model_aliases (tag_attempt_time) WHERE tag_pending;

CREATE TABLE alias_moves (
  id            bigserial   PRIMARY KEY,
  model         text        NOT NULL,
  alias         text        NOT NULL,
  -- 0: the alias was created (from) or deleted (to).
  from_version  bigint      NOT NULL DEFAULT 0,
  to_version    bigint      NOT NULL DEFAULT 0,
  caller        text        NOT NULL,
  time          timestamptz NOT NULL DEFAULT now(),
  reason        text        NOT NULL DEFAULT '',
  breaking      boolean     NOT NULL DEFAULT false,
  protected     boolean     NOT NULL DEFAULT false
);

CREATE INDEX alias_moves_by_model ON alias_moves (model, id);

-- Down Migration
DROP TABLE alias_moves;
DROP TABLE model_aliases;
ALTER TABLE model_versions DROP COLUMN description;
