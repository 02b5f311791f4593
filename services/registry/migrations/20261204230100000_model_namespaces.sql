-- Up Migration
-- Each model's namespace (`team` of `team/name`, `default` for a name without a slash), for ListModels' namespace
-- filter. Names are not rewritten: a name without a slash is the canonical form of a default-namespace model
-- (`fraud`, never `default/fraud`), so every existing row, its versions, files, logs, build jobs and image
-- references stay as they are and only gain a namespace. The registry sets it from the name (namespaceOf); the
-- default is right for every row before this (no name had a slash) and for rows that a registry of the release
-- before inserts during a rolling upgrade (it accepts no slash either).
ALTER TABLE models ADD COLUMN namespace text NOT NULL DEFAULT 'default';
-- ListModels in one namespace, in name order, from a page token.
CREATE INDEX models_namespace ON models (namespace, name COLLATE "C");

-- Down Migration
-- Models with a namespace keep their rows; a registry of the release before cannot name them.
DROP INDEX models_namespace;
ALTER TABLE models DROP COLUMN namespace;
