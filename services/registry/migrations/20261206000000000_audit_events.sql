-- Up Migration
-- The audit trail: one row per call that changed state (written in the change's own transaction, so a change and its
-- record commit or roll back together) or was refused. Append-only: a trigger refuses every UPDATE, DELETE and
-- TRUNCATE, so no client of this database, Kiln included, rewrites history by mistake.

CREATE TABLE audit_events (
  id         bigserial   PRIMARY KEY,
  -- One row per call: a call whose change committed is not recorded again when it fails afterwards.
  call_id    uuid        NOT NULL UNIQUE,
  time       timestamptz NOT NULL DEFAULT now(),
  caller     text        NOT NULL,
  rpc        text        NOT NULL,
  model      text        NOT NULL DEFAULT '',
  namespace  text        NOT NULL DEFAULT '',
  version    bigint      NOT NULL DEFAULT 0,
  result     text        NOT NULL,
  message    text        NOT NULL DEFAULT '',
  peer       text        NOT NULL DEFAULT ''
);

-- Lists are newest first (by id) within a filter.
CREATE INDEX audit_events_by_model ON audit_events (model, id);
CREATE INDEX audit_events_by_namespace ON audit_events (namespace, id);
CREATE INDEX audit_events_by_caller ON audit_events (caller, id);
CREATE INDEX audit_events_by_time ON audit_events (time);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END
$$;

CREATE TRIGGER audit_events_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Down Migration
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
