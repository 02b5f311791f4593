-- Up Migration
-- Kiln API tokens: only the SHA-256 of each secret is kept (a secret of 256 random bits cannot be guessed from its
-- digest, so a slow password hash would add only cost per verification). Revoked tokens stay, marked, so that a
-- bootstrap admin token (KILN_ADMIN_TOKEN) once revoked is never registered again by a restart.

CREATE TABLE api_tokens (
  id             text        PRIMARY KEY,
  secret_sha256  bytea       NOT NULL UNIQUE,
  owner          text        NOT NULL,
  create_time    timestamptz NOT NULL DEFAULT now(),
  expire_time    timestamptz,
  -- Updated at most once a minute per token, not on every call.
  last_use_time  timestamptz,
  revoke_time    timestamptz
);

CREATE TABLE api_token_bindings (
  token_id   text NOT NULL REFERENCES api_tokens (id),
  namespace  text NOT NULL,
  role       text NOT NULL CHECK (role IN ('reader', 'writer', 'maintainer', 'admin')),
  PRIMARY KEY (token_id, namespace)
);

-- Down Migration
DROP TABLE api_token_bindings;
DROP TABLE api_tokens;
