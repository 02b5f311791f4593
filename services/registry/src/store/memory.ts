// The registry's store in memory, for unit tests of the use cases (uploads, deletes, GC, builds) without servers.
// Transactions run one at a time and roll back by restoring what they changed; the same lifecycle rules as
// Postgres guard every status change.
import { awaitsBuild, canTransition, INITIAL_STATUS, isVisible, VISIBLE_STATUSES, type VersionStatus } from '../lifecycle';
import type {
  ClaimedWebhook, EventKind, NewWebhook, WebhookAttemptEffect, WebhookDeliveryRecord, WebhookRecord,
  AliasMoveRecord, AliasRecord, NewRegistryEvent, RegistryEventRecord, AuditEventRecord, AuditQuery, BuildResult, NewAliasMove, NewAuditEvent, LogLine, ModelRecord, ModelsQuery, NewVersion, RegistryStore, StagedObjectRecord, StoredFile, StoreOperations, StoreTransaction,
  VersionRecord,
} from './index';
import { byPath, compareCodeUnits } from '@kiln/std';
import { namespaceOf } from '../names';
import { INTERRUPTED_ATTEMPT } from './index';

interface StoredVersion extends Omit<VersionRecord, 'aliases'> {
  blobsCollected: boolean;
}

/** An alias as kept: its record without its version's image (read from the version), with its tag's last attempt. */
type StoredAlias = Omit<AliasRecord, 'versionImageReference' | 'versionImageDigest'> & { tagAttemptTime: number | null };

interface State {
  models: Map<string, { latestVersion: number; createTime: Date; updateTime: Date }>;
  versions: Map<string, StoredVersion>;
  /** upload id → digest → when it was added */
  pending: Map<string, Map<string, Date>>;
  /** upload id → its lease (ms since the epoch) and whether a sweep claimed it */
  leases: Map<string, { until: number; claimed: boolean }>;
  /** upload id → what it recorded as open in the blob store */
  staged: Map<string, StagedObjectRecord[]>;
  logs: Map<string, Map<number, string>>;
  /** The audit trail, oldest first (ids 1, 2, ...). */
  audit: AuditEventRecord[];
  /** model@alias → the alias */
  aliases: Map<string, StoredAlias>;
  /** Alias moves, oldest first (ids 1, 2, ...). */
  moves: AliasMoveRecord[];
  /** Registry events, oldest first (ids 1, 2, ...). */
  events: RegistryEventRecord[];
  webhooks: Map<string, StoredWebhook>;
  /** Webhook attempts, oldest first (ids 1, 2, ...). */
  deliveries: WebhookDeliveryRecord[];
}

interface StoredWebhook extends ClaimedWebhook {
  eventAttempts: number;
  leaseOwner: string | null;
  leaseUntil: number;
}

const key = (model: string, version: number) => `${model}:${version}`;

function copyOut(v: StoredVersion, aliases: string[], files = v.files): VersionRecord {
  const { blobsCollected: _, ...record } = structuredClone(v);
  return { ...record, files: structuredClone(files), aliases };
}

const aliasKey = (model: string, alias: string) => `${model}@${alias}`;

function webhookOut(w: StoredWebhook): WebhookRecord {
  const { secret: _, eventAttempts: _a, leaseOwner: _o, leaseUntil: _u, ...record } = structuredClone(w);
  return record;
}

export interface MemoryStoreOptions {
  /** The clock (ms since the epoch): tests move it to age pending blobs and deletions. */
  now?: () => number;
}

/** What a store and its transactions share: the data (replaced whole by a rollback) and the clock. */
interface Shared {
  state: State;
  clock: () => number;
}

class MemoryOperations implements StoreOperations {
  constructor(protected readonly shared: Shared) {}

  protected get state(): State {
    return this.shared.state;
  }
  protected now(): Date {
    return new Date(this.shared.clock());
  }

  async getVersion(model: string, version: number, includeDeleted = false): Promise<VersionRecord | null> {
    const v = version > 0
      ? this.state.versions.get(key(model, version))
      : this.versionsOf(model).filter((c) => isVisible(c.status)).at(-1);
    if (!v || (!isVisible(v.status) && !includeDeleted)) return null;
    return copyOut(v, this.aliasNames(model, v.version));
  }

  async getFiles(model: string, version: number): Promise<StoredFile[]> {
    return structuredClone(this.state.versions.get(key(model, version))?.files ?? []);
  }

  async listModels(q: ModelsQuery): Promise<ModelRecord[]> {
    return [...this.state.models.entries()]
      .filter(([name]) => (q.afterName === undefined || name > q.afterName) && name.startsWith(q.namePrefix ?? ''))
      .filter(([name]) => q.namespace === undefined || namespaceOf(name) === q.namespace)
      .sort(([a], [b]) => compareCodeUnits(a, b))
      .slice(0, q.pageSize)
      .map(([name, m]) => ({
        name,
        latestVersion: this.versionsOf(name).filter((v) => isVisible(v.status)).at(-1)?.version ?? 0,
        versionCount: this.versionsOf(name).filter((v) => isVisible(v.status)).length,
        createTime: new Date(m.createTime),
        updateTime: new Date(m.updateTime),
      }));
  }

  async listVersions(q: { model: string; pageSize: number; beforeVersion?: number; statuses: VersionStatus[]; labels: Record<string, string> }): Promise<VersionRecord[]> {
    const statuses: readonly VersionStatus[] = q.statuses.length ? q.statuses : VISIBLE_STATUSES;
    return this.versionsOf(q.model)
      .reverse()
      .filter((v) => (q.beforeVersion === undefined || v.version < q.beforeVersion) && statuses.includes(v.status))
      .filter((v) => Object.entries(q.labels).every(([k, value]) => v.labels[k] === value))
      .slice(0, q.pageSize)
      .map((v) => copyOut(v, this.aliasNames(v.model, v.version), v.fileCount <= 100 ? v.files : []));
  }

  async modelExists(model: string): Promise<boolean> {
    return this.state.models.has(model);
  }

  async setBuildStarted(model: string, version: number): Promise<void> {
    const v = this.state.versions.get(key(model, version));
    if (v && awaitsBuild(v.status)) v.buildStartTime ??= this.now();
  }

  async setBuildResult(model: string, version: number, result: BuildResult): Promise<boolean> {
    const v = this.state.versions.get(key(model, version));
    const to: VersionStatus = 'failureReason' in result ? 'FAILED' : 'RELEASED';
    if (!v || !canTransition(v.status, to)) return false;
    v.status = to;
    if ('failureReason' in result) v.failureReason = result.failureReason;
    else Object.assign(v, { imageReference: result.imageReference, imageDigest: result.imageDigest });
    v.buildEndTime = this.now();
    v.buildStartTime ??= v.buildEndTime;
    return true;
  }

  async uncollectedDeletions(olderThanMs: number, limit: number): Promise<Array<{ model: string; version: number; digests: string[] }>> {
    const cutoff = this.shared.clock() - olderThanMs;
    return [...this.state.versions.values()]
      .filter((v) => v.status === 'DELETED' && !v.blobsCollected && v.deleteTime!.getTime() < cutoff)
      .sort((a, b) => a.deleteTime!.getTime() - b.deleteTime!.getTime())
      .slice(0, limit)
      .map((v) => ({ model: v.model, version: v.version, digests: [...new Set(v.files.map((f) => f.sha256))] }));
  }

  async markBlobsCollected(model: string, version: number): Promise<void> {
    const v = this.state.versions.get(key(model, version));
    if (v) v.blobsCollected = true;
  }

  async addPendingBlob(uploadId: string, sha256: string): Promise<void> {
    const upload = this.state.pending.get(uploadId) ?? new Map<string, Date>();
    if (!upload.has(sha256)) upload.set(sha256, this.now());
    this.state.pending.set(uploadId, upload);
  }

  async pendingDigests(uploadId: string): Promise<string[]> {
    return [...(this.state.pending.get(uploadId)?.keys() ?? [])];
  }

  async releasePendingBlob(uploadId: string, sha256: string): Promise<void> {
    const upload = this.state.pending.get(uploadId);
    upload?.delete(sha256);
    if (upload?.size === 0) this.state.pending.delete(uploadId);
  }

  async releasePending(uploadId: string): Promise<string[]> {
    const digests = await this.pendingDigests(uploadId);
    this.state.pending.delete(uploadId);
    return digests;
  }

  async isBlobReferenced(sha256: string): Promise<boolean> {
    for (const v of this.state.versions.values()) {
      if (isVisible(v.status) && v.files.some((f) => f.sha256 === sha256)) return true;
    }
    for (const upload of this.state.pending.values()) if (upload.has(sha256)) return true;
    return false;
  }

  async stalePendingUploads(olderThanMs: number): Promise<string[]> {
    const cutoff = this.shared.clock() - olderThanMs;
    return [...this.state.pending.entries()]
      .filter(([id, digests]) => !this.state.leases.has(id) && [...digests.values()].some((added) => added.getTime() < cutoff))
      .map(([id]) => id);
  }

  async takeUploadLease(uploadId: string, ms: number): Promise<void> {
    if (this.state.leases.has(uploadId)) throw new Error(`upload ${uploadId} has a lease already`);
    this.state.leases.set(uploadId, { until: this.shared.clock() + ms, claimed: false });
  }

  async renewUploadLease(uploadId: string, ms: number): Promise<boolean> {
    const lease = this.state.leases.get(uploadId);
    if (!lease || lease.claimed) return false;
    lease.until = this.shared.clock() + ms;
    return true;
  }

  async claimLapsedUploads(ms: number, limit: number): Promise<string[]> {
    const now = this.shared.clock();
    const lapsed = [...this.state.leases.entries()].filter(([, l]) => l.until < now).sort(([, a], [, b]) => a.until - b.until).slice(0, limit);
    for (const [, lease] of lapsed) Object.assign(lease, { claimed: true, until: now + ms });
    return lapsed.map(([id]) => id);
  }

  async endUploadLease(uploadId: string): Promise<boolean> {
    if (this.state.staged.get(uploadId)?.length || this.state.pending.has(uploadId)) return false;
    return this.state.leases.delete(uploadId);
  }

  async recordStagedObject(uploadId: string, object: StagedObjectRecord): Promise<void> {
    if (!this.state.leases.has(uploadId)) throw new Error(`upload ${uploadId} has no lease`); // Postgres: a foreign key
    const records = this.state.staged.get(uploadId) ?? [];
    const { key, multipartUploadId, sha256 } = object;
    if (!records.some((r) => r.key === key && r.multipartUploadId === multipartUploadId)) {
      records.push({ key, ...(multipartUploadId && { multipartUploadId }), ...(sha256 && { sha256 }) });
    }
    this.state.staged.set(uploadId, records);
  }

  async setStagedDigest(uploadId: string, key: string, sha256: string): Promise<void> {
    for (const r of this.state.staged.get(uploadId) ?? []) if (r.key === key) r.sha256 = sha256;
  }

  async stagedObjects(uploadId: string): Promise<StagedObjectRecord[]> {
    const records = structuredClone(this.state.staged.get(uploadId) ?? []);
    return records.sort((a, b) => compareCodeUnits(a.key, b.key) || Number(!a.multipartUploadId) - Number(!b.multipartUploadId));
  }

  async forgetStagedObjects(uploadId: string, key: string): Promise<void> {
    const records = (this.state.staged.get(uploadId) ?? []).filter((r) => r.key !== key);
    if (records.length) this.state.staged.set(uploadId, records);
    else this.state.staged.delete(uploadId);
  }

  async appendLogLines(model: string, version: number, lines: LogLine[]): Promise<void> {
    const log = this.state.logs.get(key(model, version)) ?? new Map<number, string>();
    for (const l of lines) if (!log.has(l.number)) log.set(l.number, l.line);
    this.state.logs.set(key(model, version), log);
  }

  async lastLogLine(model: string, version: number): Promise<number> {
    return Math.max(0, ...(this.state.logs.get(key(model, version))?.keys() ?? []));
  }

  async logLinesAfter(model: string, version: number, after: number): Promise<LogLine[]> {
    return [...(this.state.logs.get(key(model, version)) ?? new Map<number, string>()).entries()]
      .filter(([n]) => n > after)
      .sort(([a], [b]) => a - b)
      .slice(0, 1000)
      .map(([number, line]) => ({ number, line }));
  }

  async recordAuditEvent(event: NewAuditEvent): Promise<boolean> {
    const trail = this.state.audit;
    if (trail.some((e) => e.callId === event.callId)) return false;
    trail.push({ ...event, id: trail.length + 1, time: this.now() });
    return true;
  }

  async listAuditEvents(q: AuditQuery): Promise<AuditEventRecord[]> {
    const matches = (e: AuditEventRecord) =>
      (q.beforeId === undefined || e.id < q.beforeId)
      && (['model', 'namespace', 'caller', 'rpc', 'result'] as const).every((f) => q[f] === undefined || e[f] === q[f])
      && (!q.startTime || e.time >= q.startTime) && (!q.endTime || e.time < q.endTime);
    return this.state.audit.filter(matches).reverse().slice(0, q.pageSize).map((e) => structuredClone(e));
  }

  async resolveAlias(model: string, alias: string): Promise<number | null> {
    return this.state.aliases.get(aliasKey(model, alias))?.version ?? null;
  }

  async getAlias(model: string, alias: string): Promise<AliasRecord | null> {
    const a = this.state.aliases.get(aliasKey(model, alias));
    return a ? this.aliasOut(a) : null;
  }

  async listAliases(model: string): Promise<AliasRecord[]> {
    return [...this.state.aliases.values()].filter((a) => a.model === model)
      .sort((a, b) => compareCodeUnits(a.alias, b.alias)).map((a) => this.aliasOut(a));
  }

  async aliasHistory(q: { model: string; alias?: string; pageSize: number; beforeId?: number }): Promise<AliasMoveRecord[]> {
    return this.state.moves
      .filter((m) => m.model === q.model && (q.alias === undefined || m.alias === q.alias) && (q.beforeId === undefined || m.id < q.beforeId))
      .reverse().slice(0, q.pageSize).map((m) => structuredClone(m));
  }

  async setTagResult(model: string, alias: string, version: number, error: string): Promise<void> {
    const a = this.state.aliases.get(aliasKey(model, alias));
    if (a?.version === version) Object.assign(a, { tagPending: error !== '', tagError: error, tagAttemptTime: this.shared.clock() });
  }

  async claimPendingTags(retryAfterMs: number, limit: number): Promise<AliasRecord[]> {
    const now = this.shared.clock();
    const due = [...this.state.aliases.values()]
      .filter((a) => a.tagPending && (a.tagAttemptTime === null || a.tagAttemptTime < now - retryAfterMs))
      .sort((a, b) => (a.tagAttemptTime ?? -Infinity) - (b.tagAttemptTime ?? -Infinity))
      .slice(0, limit);
    for (const a of due) a.tagAttemptTime = now;
    return due.map((a) => this.aliasOut(a));
  }

  async eventsAfter(q: { afterId: number; limit: number; model?: string; namespace?: string }): Promise<RegistryEventRecord[]> {
    return this.state.events
      .filter((e) => e.id > q.afterId && (q.model === undefined || e.model === q.model) && (q.namespace === undefined || e.namespace === q.namespace))
      .slice(0, q.limit).map((e) => structuredClone(e));
  }

  async lastEventId(): Promise<number> {
    return this.state.events.at(-1)?.id ?? 0;
  }

  async createWebhook(w: NewWebhook): Promise<WebhookRecord> {
    const stored: StoredWebhook = {
      ...structuredClone(w), createTime: this.now(), cursor: await this.lastEventId(), failures: 0, nextAttemptTime: this.now(),
      lastDeliveryTime: null, disabled: false, disabledReason: '', disableTime: null, eventAttempts: 0, leaseOwner: null, leaseUntil: 0,
    };
    if (this.state.webhooks.has(w.id)) throw new Error(`webhook ${w.id} exists`);
    this.state.webhooks.set(w.id, stored);
    return webhookOut(stored);
  }

  async getWebhook(id: string): Promise<WebhookRecord | null> {
    const w = this.state.webhooks.get(id);
    return w ? webhookOut(w) : null;
  }

  async listWebhooks(q: { pageSize: number; afterId?: string }): Promise<WebhookRecord[]> {
    return [...this.state.webhooks.values()].filter((w) => q.afterId === undefined || w.id > q.afterId)
      .sort((a, b) => compareCodeUnits(a.id, b.id)).slice(0, q.pageSize).map(webhookOut);
  }

  async deleteWebhook(id: string): Promise<WebhookRecord | null> {
    const w = this.state.webhooks.get(id);
    if (!w) return null;
    this.state.webhooks.delete(id);
    this.state.deliveries = this.state.deliveries.filter((d) => d.webhookId !== id);
    return webhookOut(w);
  }

  async enableWebhook(id: string): Promise<WebhookRecord | null> {
    const w = this.state.webhooks.get(id);
    if (!w) return null;
    Object.assign(w, { disabled: false, disabledReason: '', disableTime: null, failures: 0, nextAttemptTime: this.now() });
    return webhookOut(w);
  }

  async listWebhookDeliveries(q: { webhookId: string; pageSize: number; beforeId?: number }): Promise<WebhookDeliveryRecord[]> {
    return this.state.deliveries.filter((d) => d.webhookId === q.webhookId && (q.beforeId === undefined || d.id < q.beforeId))
      .reverse().slice(0, q.pageSize).map((d) => structuredClone(d));
  }

  async claimWebhooks(q: { owner: string; leaseMs: number; horizon: number; limit: number }): Promise<ClaimedWebhook[]> {
    const now = this.shared.clock();
    const due = [...this.state.webhooks.values()]
      .filter((w) => !w.disabled && w.nextAttemptTime.getTime() <= now && w.cursor < q.horizon && (!w.leaseOwner || w.leaseUntil < now))
      .sort((a, b) => a.nextAttemptTime.getTime() - b.nextAttemptTime.getTime()).slice(0, q.limit);
    for (const w of due) {
      Object.assign(w, { leaseOwner: q.owner, leaseUntil: now + q.leaseMs });
      for (const d of this.state.deliveries) if (d.webhookId === w.id && !d.finished) Object.assign(d, { finished: true, error: INTERRUPTED_ATTEMPT });
    }
    return due.sort((a, b) => compareCodeUnits(a.id, b.id)).map((w) => ({ ...webhookOut(w), secret: w.secret }));
  }

  async renewWebhookLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const w = this.webhookLeasedBy(id, owner);
    if (w) w.leaseUntil = this.shared.clock() + leaseMs;
    return Boolean(w);
  }

  async releaseWebhookLease(id: string, owner: string): Promise<void> {
    const w = this.webhookLeasedBy(id, owner);
    if (w) Object.assign(w, { leaseOwner: null, leaseUntil: 0 });
  }

  async advanceWebhookCursor(id: string, owner: string, cursor: number): Promise<boolean> {
    const w = this.webhookLeasedBy(id, owner);
    if (w && cursor > w.cursor) Object.assign(w, { cursor, eventAttempts: 0 });
    return Boolean(w);
  }

  async startWebhookAttempt(id: string, owner: string, event: { id: number; kind: EventKind; model: string }): Promise<{ deliveryId: number; attempt: number } | null> {
    const w = this.webhookLeasedBy(id, owner);
    if (!w || w.cursor >= event.id) return null;
    w.eventAttempts += 1;
    const d: WebhookDeliveryRecord = {
      id: this.state.deliveries.length ? this.state.deliveries.at(-1)!.id + 1 : 1, webhookId: id, eventId: event.id, kind: event.kind, model: event.model,
      attempt: w.eventAttempts, time: this.now(), finished: false, statusCode: 0, error: '', durationMs: 0, delivered: false,
    };
    this.state.deliveries.push(d);
    return { deliveryId: d.id, attempt: d.attempt };
  }

  async finishWebhookAttempt(id: string, owner: string, attempt: { deliveryId: number; eventId: number; statusCode: number; error: string; durationMs: number }, effect: WebhookAttemptEffect): Promise<boolean> {
    const w = this.webhookLeasedBy(id, owner);
    if (!w) return false;
    const delivered = 'delivered' in effect && effect.delivered;
    if (delivered) {
      Object.assign(w, { cursor: Math.max(w.cursor, attempt.eventId), eventAttempts: 0, failures: 0, lastDeliveryTime: this.now() });
    } else if ('failures' in effect) {
      Object.assign(w, {
        failures: effect.failures, nextAttemptTime: new Date(this.shared.clock() + effect.retryInMs),
        disabled: effect.disabledReason !== '', disabledReason: effect.disabledReason, disableTime: effect.disabledReason ? this.now() : null,
      });
    }
    const d = this.state.deliveries.find((x) => x.id === attempt.deliveryId && x.webhookId === id && x.eventId === attempt.eventId && !x.finished);
    if (d) Object.assign(d, { finished: true, statusCode: attempt.statusCode, error: attempt.error, durationMs: Math.round(attempt.durationMs), delivered });
    return true;
  }

  /** The webhook if `owner` holds its lease. */
  private webhookLeasedBy(id: string, owner: string): StoredWebhook | undefined {
    const w = this.state.webhooks.get(id);
    return w?.leaseOwner === owner ? w : undefined;
  }

  /** The names of the aliases pointing at a version. */
  protected aliasNames(model: string, version: number): string[] {
    return [...this.state.aliases.values()].filter((a) => a.model === model && a.version === version)
      .map((a) => a.alias).sort(compareCodeUnits);
  }

  protected aliasOut(a: StoredAlias): AliasRecord {
    const v = this.state.versions.get(key(a.model, a.version));
    const { tagAttemptTime: _, ...alias } = structuredClone(a);
    return { ...alias, versionImageReference: v?.imageReference ?? '', versionImageDigest: v?.imageDigest ?? '' };
  }

  /** The model's versions, oldest first. */
  protected versionsOf(model: string): StoredVersion[] {
    return [...this.state.versions.values()].filter((v) => v.model === model).sort((a, b) => a.version - b.version);
  }
}

class MemoryTransaction extends MemoryOperations implements StoreTransaction {
  readonly changed: Array<{ model: string; version: number }> = [];
  readonly changedAliases: Array<{ model: string; alias: string }> = [];

  async insertVersion(v: NewVersion): Promise<VersionRecord> {
    const now = this.now();
    const model = this.state.models.get(v.model) ?? { latestVersion: 0, createTime: now, updateTime: now };
    model.latestVersion += 1;
    model.updateTime = now;
    this.state.models.set(v.model, model);
    const files = structuredClone(v.files).sort(byPath);
    const stored: StoredVersion = {
      model: v.model,
      version: model.latestVersion,
      status: INITIAL_STATUS,
      failureReason: '',
      createTime: now,
      files,
      fileCount: files.length,
      totalSize: files.reduce((sum, f) => sum + f.size, 0),
      manifest: v.manifest,
      labels: structuredClone(v.labels),
      metadata: structuredClone(v.metadata),
      contract: structuredClone(v.contract),
      runtime: v.runtime,
      imageReference: '',
      imageDigest: '',
      buildStartTime: null,
      buildEndTime: null,
      deleteTime: null,
      description: '',
      excludedPaths: [...(v.excluded?.paths ?? [])],
      excludedFileCount: v.excluded?.count ?? 0,
      blobsCollected: false,
    };
    this.state.versions.set(key(v.model, stored.version), stored);
    return copyOut(stored, []);
  }

  async markDeleted(model: string, version: number): Promise<{ record: VersionRecord; digests: string[] } | null> {
    const v = this.state.versions.get(key(model, version));
    if (!v || !canTransition(v.status, 'DELETED')) return null;
    v.status = 'DELETED';
    v.deleteTime = this.now();
    return { record: copyOut(v, this.aliasNames(model, version)), digests: [...new Set(v.files.map((f) => f.sha256))] };
  }

  async lockBlob(): Promise<void> {
    // Transactions run one at a time: each holds every blob's lock.
  }

  async versionChanged(model: string, version: number): Promise<void> {
    this.changed.push({ model, version });
  }

  async lockVersion(model: string, version: number): Promise<VersionRecord | null> {
    // Transactions run one at a time: each holds every version's lock.
    const v = this.state.versions.get(key(model, version));
    return v ? copyOut(v, this.aliasNames(model, version), []) : null;
  }

  async lockAlias(model: string, alias: string): Promise<AliasRecord | null> {
    return this.getAlias(model, alias);
  }

  async putAlias(a: { model: string; alias: string; version: number; protected: boolean; updatedBy: string }, move: NewAliasMove): Promise<void> {
    this.state.aliases.set(aliasKey(a.model, a.alias), {
      ...a, updateTime: this.now(), tagPending: true, tagError: '', tagAttemptTime: null,
    });
    this.recordMove(move);
  }

  async deleteAlias(model: string, alias: string, move: NewAliasMove): Promise<void> {
    this.state.aliases.delete(aliasKey(model, alias));
    this.recordMove(move);
  }

  async aliasesOf(model: string, version: number): Promise<string[]> {
    return this.aliasNames(model, version);
  }

  async updateVersion(model: string, version: number, change: { setLabels: Record<string, string>; removeLabels: string[]; description?: string }): Promise<boolean> {
    const v = this.state.versions.get(key(model, version));
    if (!v || !isVisible(v.status)) return false;
    for (const k of change.removeLabels) delete v.labels[k];
    Object.assign(v.labels, change.setLabels);
    if (change.description !== undefined) v.description = change.description;
    return true;
  }

  async recordEvent(event: NewRegistryEvent): Promise<void> {
    this.state.events.push({ ...structuredClone(event), id: this.state.events.length + 1, time: this.now() });
  }

  async aliasChanged(model: string, alias: string): Promise<void> {
    this.changedAliases.push({ model, alias });
  }

  private recordMove(move: NewAliasMove): void {
    this.state.moves.push({ ...move, id: this.state.moves.length + 1, time: this.now() });
  }
}

export class MemoryStore extends MemoryOperations implements RegistryStore {
  /** Versions announced as changed by committed transactions, in order (what Postgres sends with NOTIFY). */
  readonly changes: Array<{ model: string; version: number }> = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: MemoryStoreOptions = {}) {
    super({
      state: { models: new Map(), versions: new Map(), pending: new Map(), leases: new Map(), staged: new Map(), logs: new Map(), audit: [], aliases: new Map(), moves: [], events: [], webhooks: new Map(), deliveries: [] },
      clock: options.now ?? Date.now,
    });
  }

  /** Not reentrant: fn must use `tx`, not this store's own inTransaction (it would wait for itself). */
  inTransaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const before = structuredClone(this.state);
      const tx = new MemoryTransaction(this.shared);
      try {
        const result = await fn(tx);
        this.changes.push(...tx.changed);
        return result;
      } catch (err) {
        this.shared.state = before;
        throw err;
      }
    });
    this.queue = run.catch(() => {});
    return run;
  }
}
