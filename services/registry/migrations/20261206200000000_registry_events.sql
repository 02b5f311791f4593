-- Up Migration
-- The registry's events: one row per change, written by the change's own transaction, last, under one lock taken
-- just before the insert and held until the commit: events commit in the order of their ids, so a reader that has
-- read up to an id misses nothing below it, and the id is a resume token that holds across replicas.

CREATE TABLE registry_events (
  id                bigserial   PRIMARY KEY,
  time              timestamptz NOT NULL DEFAULT now(),
  kind              text        NOT NULL,
  model             text        NOT NULL,
  namespace         text        NOT NULL,
  version           bigint      NOT NULL DEFAULT 0,
  alias             text        NOT NULL DEFAULT '',
  previous_version  bigint      NOT NULL DEFAULT 0,
  caller            text        NOT NULL DEFAULT '',
  -- What else the kind carries (labels, image, failure reason).
  details           jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX registry_events_by_model ON registry_events (model, id);
CREATE INDEX registry_events_by_namespace ON registry_events (namespace, id);

-- Down Migration
DROP TABLE registry_events;
