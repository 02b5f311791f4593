-- Up Migration
-- Uploads in progress and what each has open in the blob store, so that any registry can remove a dead upload's
-- leftovers within a lease period, by name: the upload renews its lease while it runs, and one that lapsed means
-- its registry died. Each staged object (a temp file or data object) and each open multipart upload is recorded
-- before its bytes are sent, as S3 advises: abort by id, never relying on a listing (a restarted MinIO lists none of
-- the multipart uploads it still holds). Pending blobs from before this table have no lease and age out as before.

CREATE TABLE upload_leases (
  upload_id    uuid        PRIMARY KEY,
  lease_until  timestamptz NOT NULL,
  -- Set by the registry sweeping the upload's leftovers: the upload, should it still be running, has lost it.
  claimed      boolean     NOT NULL DEFAULT false
);
CREATE INDEX upload_leases_lease_until ON upload_leases (lease_until);

CREATE TABLE staged_objects (
  upload_id            uuid NOT NULL REFERENCES upload_leases (upload_id),
  key                  text NOT NULL,
  -- '' for the object itself; else an open multipart upload on the key.
  multipart_upload_id  text NOT NULL DEFAULT '',
  -- The digest the bytes were staged as, once known: a sweep then leaves an object that became a committed blob.
  sha256               text,
  PRIMARY KEY (upload_id, key, multipart_upload_id)
);

-- Down Migration
DROP TABLE staged_objects;
DROP TABLE upload_leases;
