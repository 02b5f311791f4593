// The registry's store on Postgres (a real server or the embedded PGlite: the same `pg` code runs on both): the
// interface of ../index.ts over the SQL modules beside this one, each bound to a pool or to a transaction's client.
import type pg from 'pg';
import { asUnavailable } from '@kiln/errors';
import { withTransaction } from '@kiln/metadata';
import type { VersionStatus } from '../../lifecycle';
import { notifyAliasChanged, notifyVersionChanged } from '../../version-cache';
import type { AliasRecord, EventKind, NewWebhook, WebhookAttemptEffect, NewRegistryEvent, AuditQuery, BuildResult, NewAliasMove, LogLine, NewAuditEvent, ModelsQuery, NewVersion, RegistryStore, StagedObjectRecord, StoreOperations, StoreTransaction } from '../index';
import * as aliases from './aliases';
import * as audit from './audit';
import * as events from './events';
import * as blobReferences from './blob-references';
import * as buildLogs from './build-logs';
import * as uploadLeases from './upload-leases';
import * as versions from './versions';
import * as webhooks from './webhooks';
import type { Queryable } from './sql';

class PostgresOperations implements StoreOperations {
  constructor(protected readonly db: Queryable) {}

  getVersion(model: string, version: number, includeDeleted?: boolean) {
    return versions.getVersion(this.db, model, version, includeDeleted);
  }
  getFiles(model: string, version: number) {
    return versions.getFiles(this.db, model, version);
  }
  listModels(q: ModelsQuery) {
    return versions.listModels(this.db, q);
  }
  listVersions(q: { model: string; pageSize: number; beforeVersion?: number; statuses: VersionStatus[]; labels: Record<string, string> }) {
    return versions.listVersions(this.db, q);
  }
  modelExists(model: string) {
    return versions.modelExists(this.db, model);
  }
  setBuildStarted(model: string, version: number) {
    return versions.setBuildStarted(this.db, model, version);
  }
  setBuildResult(model: string, version: number, result: BuildResult) {
    return versions.setBuildResult(this.db, model, version, result);
  }
  uncollectedDeletions(olderThanMs: number, limit: number) {
    return versions.uncollectedDeletions(this.db, olderThanMs, limit);
  }
  markBlobsCollected(model: string, version: number) {
    return versions.markBlobsCollected(this.db, model, version);
  }

  addPendingBlob(uploadId: string, sha256: string) {
    return blobReferences.addPendingBlob(this.db, uploadId, sha256);
  }
  pendingDigests(uploadId: string) {
    return blobReferences.pendingDigests(this.db, uploadId);
  }
  releasePendingBlob(uploadId: string, sha256: string) {
    return blobReferences.releasePendingBlob(this.db, uploadId, sha256);
  }
  releasePending(uploadId: string) {
    return blobReferences.releasePending(this.db, uploadId);
  }
  isBlobReferenced(sha256: string) {
    return blobReferences.isBlobReferenced(this.db, sha256);
  }
  stalePendingUploads(olderThanMs: number) {
    return blobReferences.stalePendingUploads(this.db, olderThanMs);
  }

  takeUploadLease(uploadId: string, ms: number) {
    return uploadLeases.takeUploadLease(this.db, uploadId, ms);
  }
  renewUploadLease(uploadId: string, ms: number) {
    return uploadLeases.renewUploadLease(this.db, uploadId, ms);
  }
  claimLapsedUploads(ms: number, limit: number) {
    return uploadLeases.claimLapsedUploads(this.db, ms, limit);
  }
  endUploadLease(uploadId: string) {
    return uploadLeases.endUploadLease(this.db, uploadId);
  }
  recordStagedObject(uploadId: string, object: StagedObjectRecord) {
    return uploadLeases.recordStagedObject(this.db, uploadId, object);
  }
  setStagedDigest(uploadId: string, key: string, sha256: string) {
    return uploadLeases.setStagedDigest(this.db, uploadId, key, sha256);
  }
  stagedObjects(uploadId: string) {
    return uploadLeases.stagedObjects(this.db, uploadId);
  }
  forgetStagedObjects(uploadId: string, key: string) {
    return uploadLeases.forgetStagedObjects(this.db, uploadId, key);
  }

  appendLogLines(model: string, version: number, lines: LogLine[]) {
    return buildLogs.appendLogLines(this.db, model, version, lines);
  }
  lastLogLine(model: string, version: number) {
    return buildLogs.lastLogLine(this.db, model, version);
  }
  logLinesAfter(model: string, version: number, after: number) {
    return buildLogs.logLinesAfter(this.db, model, version, after);
  }

  recordAuditEvent(event: NewAuditEvent) {
    return audit.recordAuditEvent(this.db, event);
  }
  listAuditEvents(q: AuditQuery) {
    return audit.listAuditEvents(this.db, q);
  }

  resolveAlias(model: string, alias: string) {
    return aliases.resolveAlias(this.db, model, alias);
  }
  getAlias(model: string, alias: string) {
    return aliases.getAlias(this.db, model, alias);
  }
  listAliases(model: string) {
    return aliases.listAliases(this.db, model);
  }
  aliasHistory(q: { model: string; alias?: string; pageSize: number; beforeId?: number }) {
    return aliases.aliasHistory(this.db, q);
  }
  setTagResult(model: string, alias: string, version: number, error: string) {
    return aliases.setTagResult(this.db, model, alias, version, error);
  }
  claimPendingTags(retryAfterMs: number, limit: number): Promise<AliasRecord[]> {
    return aliases.claimPendingTags(this.db, retryAfterMs, limit);
  }

  eventsAfter(q: { afterId: number; limit: number; model?: string; namespace?: string }) {
    return events.eventsAfter(this.db, q);
  }
  lastEventId() {
    return events.lastEventId(this.db);
  }

  createWebhook(w: NewWebhook) {
    return webhooks.createWebhook(this.db, w);
  }
  getWebhook(id: string) {
    return webhooks.getWebhook(this.db, id);
  }
  listWebhooks(q: { pageSize: number; afterId?: string }) {
    return webhooks.listWebhooks(this.db, q);
  }
  deleteWebhook(id: string) {
    return webhooks.deleteWebhook(this.db, id);
  }
  enableWebhook(id: string) {
    return webhooks.enableWebhook(this.db, id);
  }
  listWebhookDeliveries(q: { webhookId: string; pageSize: number; beforeId?: number }) {
    return webhooks.listWebhookDeliveries(this.db, q);
  }
  claimWebhooks(q: { owner: string; leaseMs: number; horizon: number; limit: number }) {
    return webhooks.claimWebhooks(this.db, q);
  }
  renewWebhookLease(id: string, owner: string, leaseMs: number) {
    return webhooks.renewWebhookLease(this.db, id, owner, leaseMs);
  }
  releaseWebhookLease(id: string, owner: string) {
    return webhooks.releaseWebhookLease(this.db, id, owner);
  }
  advanceWebhookCursor(id: string, owner: string, cursor: number) {
    return webhooks.advanceWebhookCursor(this.db, id, owner, cursor);
  }
  startWebhookAttempt(id: string, owner: string, event: { id: number; kind: EventKind; model: string }) {
    return webhooks.startWebhookAttempt(this.db, id, owner, event);
  }
  finishWebhookAttempt(id: string, owner: string, attempt: { deliveryId: number; eventId: number; statusCode: number; error: string; durationMs: number }, effect: WebhookAttemptEffect) {
    return webhooks.finishWebhookAttempt(this.db, id, owner, attempt, effect);
  }
}

/** A transaction on one pooled client; `client` is there for what joins it from outside the store (the build
 * queue's enqueue, through pg-boss). */
export class PostgresTransaction extends PostgresOperations implements StoreTransaction {
  constructor(readonly client: pg.PoolClient) {
    super(client);
  }
  insertVersion(v: NewVersion) {
    return versions.insertVersion(this.client, v);
  }
  markDeleted(model: string, version: number) {
    return versions.markDeleted(this.client, model, version);
  }
  lockBlob(sha256: string) {
    return blobReferences.lockBlob(this.client, sha256);
  }
  versionChanged(model: string, version: number) {
    return notifyVersionChanged(this.client, model, version);
  }
  lockVersion(model: string, version: number) {
    return versions.lockVersion(this.client, model, version);
  }
  lockAlias(model: string, alias: string) {
    return aliases.lockAlias(this.client, model, alias);
  }
  putAlias(a: { model: string; alias: string; version: number; protected: boolean; updatedBy: string }, move: NewAliasMove) {
    return aliases.putAlias(this.client, a, move);
  }
  deleteAlias(model: string, alias: string, move: NewAliasMove) {
    return aliases.deleteAlias(this.client, model, alias, move);
  }
  aliasesOf(model: string, version: number) {
    return aliases.aliasesOf(this.client, model, version);
  }
  updateVersion(model: string, version: number, change: { setLabels: Record<string, string>; removeLabels: string[]; description?: string }) {
    return versions.updateVersion(this.client, model, version, change);
  }
  recordEvent(event: NewRegistryEvent) {
    return events.recordEvent(this.client, event);
  }
  aliasChanged(model: string, alias: string) {
    return notifyAliasChanged(this.client, model, alias);
  }
}

/** Postgres down, restarting or out of reach: UNAVAILABLE, so that no caller reports it as INTERNAL or as the
 * request's fault. */
function reportOutage(err: unknown): never {
  throw asUnavailable(err, 'the database (Postgres)');
}

/** The pool's queries, with outages reported (a transaction's are, by inTransaction). */
function reportingOutages(pool: pg.Pool): Queryable {
  const query = (...args: unknown[]) => (pool.query as (...a: unknown[]) => Promise<unknown>).apply(pool, args).catch(reportOutage);
  return { query: query as Queryable['query'] };
}

export class PostgresStore extends PostgresOperations implements RegistryStore {
  constructor(readonly pool: pg.Pool) {
    super(reportingOutages(pool));
  }
  inTransaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, (client) => fn(new PostgresTransaction(client))).catch(reportOutage);
  }
}

/** The Postgres client of a store transaction, for SQL that must run in it (an enqueue with the version it builds). */
export function postgresClientOf(tx: StoreTransaction): pg.PoolClient {
  if (!(tx instanceof PostgresTransaction)) throw new Error('not a transaction of the Postgres store');
  return tx.client;
}
