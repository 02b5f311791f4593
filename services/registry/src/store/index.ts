// The registry's metadata store as the use cases see it (uploads, deletes, builds, GC): records and operations, one
// interface grouped by concern, with `inTransaction` for what must happen together. Implementations: Postgres
// (postgres/, the real one) and memory.ts (for unit tests).
import type { Contract } from '@kiln/contract/types';
import type { VersionStatus } from '../lifecycle';

export type { VersionStatus } from '../lifecycle';

export interface StoredFile {
  path: string;
  size: number;
  sha256: string;
  executable: boolean;
}

export interface VersionRecord {
  model: string;
  version: number;
  status: VersionStatus;
  failureReason: string;
  createTime: Date;
  files: StoredFile[];
  fileCount: number;
  totalSize: number;
  manifest: string;
  labels: Record<string, string>;
  metadata: Record<string, string>;
  contract: Contract | null;
  runtime: string;
  imageReference: string;
  imageDigest: string;
  buildStartTime: Date | null;
  buildEndTime: Date | null;
  deleteTime: Date | null;
  /** The aliases pointing at it, by name. */
  aliases: string[];
  description: string;
  /** Files the upload held that the manifest's payload left out (not stored): the first EXCLUDED_PATHS_KEPT (upload.ts) by
   * path, and how many in all. */
  excludedPaths: string[];
  excludedFileCount: number;
}

export interface ModelRecord {
  name: string;
  /** The newest version that is not deleted (0 when every one is): what "latest" means everywhere. */
  latestVersion: number;
  versionCount: number;
  createTime: Date;
  updateTime: Date;
}

export interface ModelsQuery {
  pageSize: number;
  afterName?: string;
  namespace?: string;
  namePrefix?: string;
}

export interface NewVersion {
  model: string;
  files: StoredFile[];
  /** What the payload left out (see VersionRecord.excludedPaths); none when absent. */
  excluded?: { paths: string[]; count: number };
  manifest: string;
  labels: Record<string, string>;
  metadata: Record<string, string>;
  contract: Contract | null;
  runtime: string;
}

export type BuildResult = { imageReference: string; imageDigest: string } | { failureReason: string };

export interface LogLine {
  number: number;
  line: string;
}

/** Models, versions and their files. */
export interface VersionStore {
  /** One version with its files; `version` 0 is the newest visible one. Deleted versions only with includeDeleted. */
  getVersion(model: string, version: number, includeDeleted?: boolean): Promise<VersionRecord | null>;
  getFiles(model: string, version: number): Promise<StoredFile[]>;
  /** Models by name; `namespace` keeps one namespace's (see namespaceOf), `namePrefix` applies to the whole name. */
  listModels(q: ModelsQuery): Promise<ModelRecord[]>;
  /** Versions newest first; files included only for versions with few of them (GetModelVersion returns all). */
  listVersions(q: { model: string; pageSize: number; beforeVersion?: number; statuses: VersionStatus[]; labels: Record<string, string> }): Promise<VersionRecord[]>;
  modelExists(model: string): Promise<boolean>;
  /** Records when the build began (its first attempt), while the version awaits its build. */
  setBuildStarted(model: string, version: number): Promise<void>;
  /** Ends a build: RELEASED with its image, or FAILED with the reason, if the lifecycle allows it (false if not). */
  setBuildResult(model: string, version: number, result: BuildResult): Promise<boolean>;
  /** Deleted versions whose blobs no collection has finished for (the delete died or failed half-way), deleted
   * before the cutoff, oldest first, with their files' digests. */
  uncollectedDeletions(olderThanMs: number, limit: number): Promise<Array<{ model: string; version: number; digests: string[] }>>;
  /** Records that a deleted version's blobs were each collected or found in use by something else. */
  markBlobsCollected(model: string, version: number): Promise<void>;
}

/** References that keep blobs alive: an upload's pending blobs (a version's files are the other kind). */
export interface BlobReferenceStore {
  addPendingBlob(uploadId: string, sha256: string): Promise<void>;
  /** The distinct blobs an upload holds references to. */
  pendingDigests(uploadId: string): Promise<string[]>;
  releasePendingBlob(uploadId: string, sha256: string): Promise<void>;
  /** Drops every reference of the upload; returns their digests. */
  releasePending(uploadId: string): Promise<string[]>;
  /** Whether a version that is not deleted, or an upload in progress, uses the blob. */
  isBlobReferenced(sha256: string): Promise<boolean>;
  /** Uploads without a lease (from before leases) whose pending blobs are older than the cutoff: they died with
   * their process. */
  stalePendingUploads(olderThanMs: number): Promise<string[]>;
}

/** What an upload has open in the blob store: an object (a temp file or data object), or a multipart upload on it. */
export interface StagedObjectRecord {
  key: string;
  multipartUploadId?: string;
  /** The digest its bytes were staged as, once known. */
  sha256?: string;
}

/** Uploads in progress: each holds a lease it renews while it runs and records what it opens in the blob store, so
 * that once its lease lapses (its registry died) any registry removes those leftovers by name. */
export interface UploadLeaseStore {
  /** Starts a new upload's lease, for `ms`. */
  takeUploadLease(uploadId: string, ms: number): Promise<void>;
  /** Extends the lease to `ms` from now; false once a sweep has claimed the upload (then it must not go on). */
  renewUploadLease(uploadId: string, ms: number): Promise<boolean>;
  /** Claims up to `limit` uploads whose lease lapsed, for `ms`: no other sweep takes them until that lapses too. */
  claimLapsedUploads(ms: number, limit: number): Promise<string[]>;
  /** Ends the lease unless the upload still has staged objects or pending blobs; true when it ended. */
  endUploadLease(uploadId: string): Promise<boolean>;
  /** Records what the upload is about to open (its lease must exist). */
  recordStagedObject(uploadId: string, object: StagedObjectRecord): Promise<void>;
  /** Records the digest that the bytes under `key` were staged as. */
  setStagedDigest(uploadId: string, key: string, sha256: string): Promise<void>;
  /** What the upload recorded and has not forgotten, multipart uploads before objects. */
  stagedObjects(uploadId: string): Promise<StagedObjectRecord[]>;
  /** Forgets every record of `key` (committed, or removed). */
  forgetStagedObjects(uploadId: string, key: string): Promise<void>;
}

export interface BuildLogStore {
  /** Stores lines (a line already stored under its number is kept). */
  appendLogLines(model: string, version: number, lines: LogLine[]): Promise<void>;
  /** The highest line number stored for the version (0 when none): a retried build continues after it. */
  lastLogLine(model: string, version: number): Promise<number>;
  /** Up to 1,000 lines after `after`, in order. */
  logLinesAfter(model: string, version: number, after: number): Promise<LogLine[]>;
}

export interface AliasRecord {
  model: string;
  alias: string;
  version: number;
  protected: boolean;
  updateTime: Date;
  updatedBy: string;
  tagPending: boolean;
  tagError: string;
  /** The image reference of the version it points at ('' while it has none). */
  versionImageReference: string;
  versionImageDigest: string;
}

/** One move of an alias: from 0 when created, to 0 when deleted. */
export interface AliasMoveRecord {
  id: number;
  model: string;
  alias: string;
  fromVersion: number;
  toVersion: number;
  caller: string;
  time: Date;
  reason: string;
  breaking: boolean;
  protected: boolean;
}

export type NewAliasMove = Omit<AliasMoveRecord, 'id' | 'time'>;

/** Aliases and their history (the rules about them are aliases.ts's). */
export interface AliasStore {
  /** The version the alias points at, or null when there is no such alias. */
  resolveAlias(model: string, alias: string): Promise<number | null>;
  getAlias(model: string, alias: string): Promise<AliasRecord | null>;
  /** The model's aliases by name. */
  listAliases(model: string): Promise<AliasRecord[]>;
  /** Moves newest first, of one alias or all of the model's, older than `beforeId`. */
  aliasHistory(q: { model: string; alias?: string; pageSize: number; beforeId?: number }): Promise<AliasMoveRecord[]>;
  /** Records an attempt to move the alias's tag ('' when it moved), if the alias still points at `version`. */
  setTagResult(model: string, alias: string, version: number, error: string): Promise<void>;
  /** Up to `limit` aliases whose tag is pending and not tried for `retryAfterMs`, marked tried now: no other
   * replica's sweep takes them until then. */
  claimPendingTags(retryAfterMs: number, limit: number): Promise<AliasRecord[]>;
}

/** What a registry event says happened (kiln.v1.EventKind without its prefix). */
export type EventKind =
  | 'VERSION_CREATED' | 'VERSION_RELEASED' | 'VERSION_FAILED' | 'VERSION_DELETED'
  | 'ALIAS_SET' | 'ALIAS_MOVED' | 'ALIAS_DELETED' | 'LABELS_CHANGED';

export interface NewRegistryEvent {
  kind: EventKind;
  model: string;
  namespace: string;
  version: number;
  alias: string;
  previousVersion: number;
  caller: string;
  details: { labels?: Record<string, string>; image?: string; failureReason?: string };
}

export interface RegistryEventRecord extends NewRegistryEvent {
  id: number;
  time: Date;
}

/** The registry's events, in the order they committed (ids ascending; see recordEvent). */
export interface EventStore {
  /** Up to `limit` events after `afterId`, oldest first, of one model or namespace if given. */
  eventsAfter(q: { afterId: number; limit: number; model?: string; namespace?: string }): Promise<RegistryEventRecord[]>;
  /** The newest event's id (0 when none): every event up to it has committed. */
  lastEventId(): Promise<number>;
}

/** One audited call as audit.ts makes it. */
export interface NewAuditEvent {
  /** The call's id: a call is recorded once (what its change wrote stands when the call fails afterwards). */
  callId: string;
  caller: string;
  rpc: string;
  model: string;
  namespace: string;
  version: number;
  result: string;
  message: string;
  peer: string;
}

export interface AuditEventRecord extends NewAuditEvent {
  id: number;
  time: Date;
}

/** A page of the audit trail, newest first; every filter given must match. */
export interface AuditQuery {
  pageSize: number;
  /** Records older than this one (the previous page's last id). */
  beforeId?: number;
  model?: string;
  namespace?: string;
  caller?: string;
  rpc?: string;
  result?: string;
  startTime?: Date;
  endTime?: Date;
}

/** The audit trail: append-only. In a transaction, a record commits or rolls back with the change it records. */
export interface AuditStore {
  /** Records the event; false (nothing written) when its call is recorded already. */
  recordAuditEvent(event: NewAuditEvent): Promise<boolean>;
  listAuditEvents(q: AuditQuery): Promise<AuditEventRecord[]>;
}

export interface NewWebhook {
  id: string;
  url: string;
  /** '' for every namespace. */
  namespace: string;
  /** '' for every model. */
  model: string;
  /** Empty for every kind. */
  kinds: EventKind[];
  secret: string;
  createdBy: string;
}

/** A webhook as lists show it: never its secret. */
export interface WebhookRecord extends Omit<NewWebhook, 'secret'> {
  createTime: Date;
  /** Every event up to this id was delivered or did not match. */
  cursor: number;
  /** Failed attempts since the last delivery. */
  failures: number;
  nextAttemptTime: Date;
  lastDeliveryTime: Date | null;
  disabled: boolean;
  disabledReason: string;
  disableTime: Date | null;
}

/** A webhook claimed for delivery: with its secret, to sign with. */
export interface ClaimedWebhook extends WebhookRecord {
  secret: string;
}

export interface WebhookDeliveryRecord {
  id: number;
  webhookId: string;
  eventId: number;
  kind: EventKind;
  model: string;
  attempt: number;
  time: Date;
  /** False while the attempt runs (or when its registry died: then the next owner marks it interrupted). */
  finished: boolean;
  statusCode: number;
  error: string;
  durationMs: number;
  delivered: boolean;
}

/** What an attempt says that its registry never finished (it died, or lost the lease): the next owner marks it. */
export const INTERRUPTED_ATTEMPT = 'interrupted: the registry delivering it stopped or lost its lease before an answer';

/** What an attempt's end does to its webhook: the cursor past the event (delivered), a retry later (failed), or
 * nothing (interrupted by a stop: the event is tried again at once by whoever takes the webhook). */
export type WebhookAttemptEffect =
  | { delivered: true }
  | { delivered: false; failures: number; retryInMs: number; disabledReason: string }
  | { interrupted: true };

/** Webhooks, their delivery leases and their attempt log (the rules are webhooks.ts's). Every delivery write names
 * the lease's owner and does nothing (false, null) once it is not the owner any more. */
export interface WebhookStore {
  /** Creates the webhook with its cursor at the event log's end: it gets the events from now on. */
  createWebhook(w: NewWebhook): Promise<WebhookRecord>;
  getWebhook(id: string): Promise<WebhookRecord | null>;
  /** By id (oldest first), after `afterId`. */
  listWebhooks(q: { pageSize: number; afterId?: string }): Promise<WebhookRecord[]>;
  /** Deletes the webhook with its attempts; returns it as it was, or null. */
  deleteWebhook(id: string): Promise<WebhookRecord | null>;
  /** Enables it (no failures, due now); returns it, or null when there is no such webhook. */
  enableWebhook(id: string): Promise<WebhookRecord | null>;
  /** Attempts newest first, older than `beforeId`. */
  listWebhookDeliveries(q: { webhookId: string; pageSize: number; beforeId?: number }): Promise<WebhookDeliveryRecord[]>;
  /** Leases up to `limit` enabled webhooks with work due (an attempt due, and the cursor before `horizon`) whose
   * lease is free or lapsed, to `owner` for `leaseMs`; the unfinished attempts of their previous owners are marked
   * interrupted. */
  claimWebhooks(q: { owner: string; leaseMs: number; horizon: number; limit: number }): Promise<ClaimedWebhook[]>;
  renewWebhookLease(id: string, owner: string, leaseMs: number): Promise<boolean>;
  releaseWebhookLease(id: string, owner: string): Promise<void>;
  /** Moves the cursor forward to `cursor` (past events that did not match). */
  advanceWebhookCursor(id: string, owner: string, cursor: number): Promise<boolean>;
  /** Logs the start of an attempt at the event; null when `owner` lost the lease (or the webhook is gone). */
  startWebhookAttempt(id: string, owner: string, event: { id: number; kind: EventKind; model: string }): Promise<{ deliveryId: number; attempt: number } | null>;
  /** Logs the attempt's end and applies its effect on the webhook. */
  finishWebhookAttempt(id: string, owner: string, attempt: { deliveryId: number; eventId: number; statusCode: number; error: string; durationMs: number }, effect: WebhookAttemptEffect): Promise<boolean>;
}

export interface StoreOperations extends VersionStore, BlobReferenceStore, UploadLeaseStore, BuildLogStore, AuditStore, AliasStore, EventStore, WebhookStore {}

/** What only makes sense inside a transaction: it holds until the transaction ends, or happens only if it commits. */
export interface StoreTransaction extends StoreOperations {
  /** Creates version N+1 of the model (INITIAL_STATUS). Numbers are gapless and unique: a rolled-back transaction
   * rolls its number back too, and concurrent uploads of one name are serialised. */
  insertVersion(v: NewVersion): Promise<VersionRecord>;
  /** Marks a version deleted; returns it with the digests of its files (candidates for collection), or null if
   * it is absent or already deleted. */
  markDeleted(model: string, version: number): Promise<{ record: VersionRecord; digests: string[] } | null>;
  /** Serialises, until the transaction ends, everything that adds or removes a reference to one blob (an upload
   * referencing it, a collection deleting it). */
  lockBlob(sha256: string): Promise<void>;
  /** Tells every registry replica, once the transaction commits, that the version changed (their caches forget it). */
  versionChanged(model: string, version: number): Promise<void>;
  /** Locks the version until the transaction ends against a delete (or anything else changing its status), and
   * returns it; null when absent. */
  lockVersion(model: string, version: number): Promise<VersionRecord | null>;
  /** Locks the alias row (or its absence, through the model's row) until the transaction ends; returns it. */
  lockAlias(model: string, alias: string): Promise<AliasRecord | null>;
  /** Creates or moves the alias, its tag pending, and records the move. */
  putAlias(a: { model: string; alias: string; version: number; protected: boolean; updatedBy: string }, move: NewAliasMove): Promise<void>;
  /** Deletes the alias and records the move. */
  deleteAlias(model: string, alias: string, move: NewAliasMove): Promise<void>;
  /** The aliases pointing at the version, by name. */
  aliasesOf(model: string, version: number): Promise<string[]>;
  /** Sets labels (and removes keys) and the description, if given; false when the version is absent or deleted. */
  updateVersion(model: string, version: number, change: { setLabels: Record<string, string>; removeLabels: string[]; description?: string }): Promise<boolean>;
  /** Records the change's event, as the transaction's last write: events commit one at a time, in id order. */
  recordEvent(event: NewRegistryEvent): Promise<void>;
  /** Tells every registry replica, once the transaction commits, that the alias moved (their caches forget it). */
  aliasChanged(model: string, alias: string): Promise<void>;
}

export interface RegistryStore extends StoreOperations {
  /** Runs fn in one transaction: all of its writes or none (rolled back when fn throws). */
  inTransaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T>;
}
