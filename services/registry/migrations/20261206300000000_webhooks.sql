-- Up Migration
-- Webhooks: where the registry POSTs its events (registry_events), each with its own cursor. A webhook's events go
-- out one at a time in id order: the cursor moves past an event only once the receiver took it (or it did not
-- match the filter), so a crash at any point means that event is sent again, never skipped. Whoever delivers holds
-- the webhook's lease (lease_owner, lease_until), renewed while it works: two registry replicas never deliver to one
-- webhook at once, and a dead one's webhook is taken over once its lease lapses.

CREATE TABLE webhooks (
  -- wh_ then a time-ordered part: listing by id lists oldest first.
  id                  text        PRIMARY KEY,
  url                 text        NOT NULL,
  namespace           text        NOT NULL DEFAULT '',
  model               text        NOT NULL DEFAULT '',
  -- EventKind names without their prefix; empty for every kind.
  kinds               text[]      NOT NULL DEFAULT '{}',
  -- The HMAC key, kept in the clear because every delivery is signed with it: never returned, never logged.
  secret              text        NOT NULL,
  created_by          text        NOT NULL,
  create_time         timestamptz NOT NULL DEFAULT now(),
  -- Every event up to this id was delivered or did not match.
  cursor              bigint      NOT NULL,
  -- Failed attempts since the last delivery, and attempts of the event at the head (for the delivery log).
  failures            integer     NOT NULL DEFAULT 0,
  event_attempts      integer     NOT NULL DEFAULT 0,
  next_attempt_time   timestamptz NOT NULL DEFAULT now(),
  last_delivery_time  timestamptz,
  disabled            boolean     NOT NULL DEFAULT false,
  disabled_reason     text        NOT NULL DEFAULT '',
  disable_time        timestamptz,
  lease_owner         text,
  lease_until         timestamptz
);
CREATE INDEX webhooks_due ON webhooks (next_attempt_time) WHERE NOT disabled;

-- Every attempt, written before the request goes out and completed after: one left unfinished by a registry that
-- died is marked interrupted by the registry that takes the webhook over.
CREATE TABLE webhook_deliveries (
  id           bigserial   PRIMARY KEY,
  webhook_id   text        NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id     bigint      NOT NULL,
  kind         text        NOT NULL,
  model        text        NOT NULL,
  attempt      integer     NOT NULL,
  time         timestamptz NOT NULL DEFAULT now(),
  finished     boolean     NOT NULL DEFAULT false,
  status_code  integer     NOT NULL DEFAULT 0,
  error        text        NOT NULL DEFAULT '',
  duration_ms  bigint      NOT NULL DEFAULT 0,
  delivered    boolean     NOT NULL DEFAULT false
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_unfinished ON webhook_deliveries (webhook_id) WHERE NOT finished;

-- Down Migration
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
