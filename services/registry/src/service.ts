// The kiln.v1.Registry gRPC handlers: request validation and conversion at the edge, the work in upload.ts, gc/ and
// the store.
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { RegistryImplementation } from '@kiln/api/handlers';
import type { UploadHeader__Output } from '@kiln/api/generated/kiln/v1/UploadHeader';
import { invalidArgument, isKilnError, notFound, KilnError } from '@kiln/errors';
import { archiveFormat, openUploadStream } from '@kiln/api/upload-stream';
import { kilnProto } from '@kiln/api';
import { asMessage, encodeOnce, type Encoded } from '@kiln/api/encoded';
import type { ModelVersion } from '@kiln/api/generated/kiln/v1/ModelVersion';
import { ingestUpload, type UploadDeps, type UploadHeaderInput } from './upload';
import { collectDeletedVersion } from './gc';
import { isFinal } from './lifecycle';
import { decodePageToken, encodePageToken, modelToProto, pageSize, statusFromProto, versionToProto } from './convert';
import { canonicalModelName, DEFAULT_NAMESPACE, validateLabels, validateNamespace } from './names';
import type { VersionEvents } from './events';
import type { VersionCache } from './version-cache';
import type { TokenStore } from './tokens';
import { tokenHandlers } from './token-service';
import { auditEvent } from './audit';
import { labelsChanged, versionCreated, versionDeleted, type EventTail } from './event-log';
import { eventHandlers } from './event-service';
import { diffHandlers } from './diff-service';
import { callerName } from '@kiln/api/context';
import { aliasHandlers } from './alias-service';
import { refuseDeletingAliased, type AliasDeps, type TagMover } from './aliases';
import { requireVersion, versionNamed } from './version-lookup';
import { auditHandlers } from './audit-service';
import { webhookHandlers } from './webhook-service';
import type { AllowList } from './webhooks';

export interface RegistryDeps extends UploadDeps {
  /** Streams a blob's bytes (for downloads). */
  readBlob(digest: string): Promise<Readable>;
  events: VersionEvents;
  /** How often watchers look at the database when nothing woke them. */
  watchPollMs: number;
  /** Final versions' GetModelVersion responses, encoded once, served from memory. */
  cache: VersionCache<Encoded<ModelVersion>>;
  /** Kiln API tokens (CreateToken, ListTokens, RevokeToken). */
  tokens: TokenStore;
  /** Where the event log ends (WatchModels waits on it). */
  eventTail: EventTail;
  /** The hosts webhooks may deliver to beyond loopback (KILN_WEBHOOK_ALLOWED_HOSTS). */
  webhookAllowList: AllowList;
  /** Points an alias's image tag at its version's image (the builder); absent: tags stay pending. */
  moveTag?: TagMover;
  removeTag?: AliasDeps['removeTag'];
  /** Fails (UNAVAILABLE) when the inference service cannot be reached: an upload checks before it stores a byte,
   * rather than fail once all of it is stored. */
  inferenceReachable(): Promise<void>;
}

const MAX_DESCRIPTION_LENGTH = 4096;

const serializeVersion = kilnProto().kiln.v1.Registry.service.GetModelVersion.responseSerialize as (v: ModelVersion) => Buffer;

export function registryHandlers(deps: RegistryDeps): RegistryImplementation {
  const { store, log } = deps;
  const aliasDeps = { store, cache: deps.cache, log, moveTag: deps.moveTag, removeTag: deps.removeTag, events: deps.events };

  return {
    ...tokenHandlers(deps.tokens, log),
    ...auditHandlers(store),
    ...aliasHandlers(aliasDeps),
    ...eventHandlers(store, deps.eventTail),
    ...diffHandlers(aliasDeps),
    ...webhookHandlers(store, deps.webhookAllowList),

    async UploadModel(requests, context) {
      const opened = await openUploadStream(requests, context.signal, 'UploadModelRequest');
      if (opened.header.model) context.addLogFields({ model: opened.header.model });
      const header = toHeader(opened.header);
      await deps.inferenceReachable();
      const { body } = opened;
      context.signal.addEventListener('abort', () => body.destroy(context.signal.reason), { once: true });
      const record = await ingestUpload(header, body, deps, context.signal, async (tx, created) => {
        await tx.recordAuditEvent(auditEvent(context, { model: created.model, version: created.version, message: `created version ${created.version} (${created.files.length} files, ${created.totalSize} bytes)` }));
        await tx.recordEvent(versionCreated(created, callerName(context.caller)));
      });
      deps.events.notify(record.model, record.version);
      return versionToProto(record);
    },

    GetModelVersion(request) {
      const where = 'GetModelVersionRequest';
      const model = canonicalModelName(request.model, `${where}.model`);
      // An alias the cache knows is resolved without a promise too.
      const known = request.alias && !request.version ? deps.cache.aliasVersion(model, request.alias) : undefined;
      const given = known ?? (request.alias ? undefined : request.version);
      const cached = given !== undefined && given > 0 ? deps.cache.get(model, given) : undefined;
      // Not async: a cached version is answered without a promise of its own.
      if (cached) return asMessage(cached);
      return (async () => {
        const version = given ?? await versionNamed(aliasDeps, model, request, where);
        const readAt = deps.cache.generation();
        const record = await requireVersion(store, model, version, where);
        const response = encodeOnce(serializeVersion, versionToProto(record));
        deps.cache.put(record, response, readAt);
        return asMessage(response);
      })();
    },

    async ListModels(request) {
      const where = 'ListModelsRequest';
      const size = pageSize(request.pageSize, `${where}.page_size`);
      const after = decodePageToken<string>(request.pageToken, 'string', `${where}.page_token`);
      if (request.namespace) validateNamespace(request.namespace, `${where}.namespace`);
      const models = await store.listModels({
        pageSize: size + 1, afterName: after, ...modelsFilter(request.namespace, request.namePrefix),
      });
      const page = models.slice(0, size);
      return {
        models: page.map(modelToProto),
        nextPageToken: models.length > size ? encodePageToken(page[page.length - 1].name) : '',
      };
    },

    async ListModelVersions(r) {
      const where = 'ListModelVersionsRequest';
      const model = canonicalModelName(r.model, `${where}.model`);
      const size = pageSize(r.pageSize, `${where}.page_size`);
      const before = decodePageToken<number>(r.pageToken, 'number', `${where}.page_token`);
      const statuses = r.statuses.map((s, i) => statusFromProto(String(s), `${where}.statuses[${i}]`));
      if (!(await store.modelExists(model))) throw notFound(`model ${model} does not exist`);
      const versions = await store.listVersions({ model, pageSize: size + 1, beforeVersion: before, statuses, labels: r.labels });
      const page = versions.slice(0, size);
      return {
        versions: page.map(versionToProto),
        nextPageToken: versions.length > size ? encodePageToken(page[page.length - 1].version) : '',
      };
    },

    async DeleteModelVersion(request, context) {
      const { version } = request;
      const where = 'DeleteModelVersionRequest';
      const model = canonicalModelName(request.model, `${where}.model`);
      if (version <= 0) throw invalidArgument('give the version number to delete', `${where}.version`);
      const deleted = await store.inTransaction(async (tx) => {
        const marked = await tx.markDeleted(model, version);
        if (marked) {
          await refuseDeletingAliased(tx, model, version);
          await tx.versionChanged(model, version);
          await tx.recordAuditEvent(auditEvent(context, { model, version, message: `deleted version ${version}` }));
          await tx.recordEvent(versionDeleted(model, version, callerName(context.caller)));
        }
        return marked;
      });
      deps.cache.evict(model, version);
      if (!deleted) {
        const gone = await store.getVersion(model, version, true);
        if (gone?.status === 'DELETED') throw notFound(`model ${model} version ${version} is already deleted`);
        await requireVersion(store, model, version, where);
      }
      const vlog = log.child({ model, version });
      // The version is deleted from here on, whatever happens to its blobs: if collecting them fails (or this process
      // dies first), the registry's periodic sweep collects them, so the call still reports the delete.
      await collectDeletedVersion(deps, model, version, deleted!.digests, vlog).catch((err) =>
        vlog.warn({ err }, 'could not collect the deleted version\'s blobs yet; the next sweep does'),
      );
      vlog.info('version deleted');
      deps.events.notify(model, version);
      return versionToProto(deleted!.record);
    },

    async UpdateModelVersion(request, context) {
      const where = 'UpdateModelVersionRequest';
      const model = canonicalModelName(request.model, `${where}.model`);
      const { version } = request;
      if (version <= 0) throw invalidArgument('give the version number to update', `${where}.version`);
      const setLabels = request.setLabels ?? {};
      validateLabels(setLabels, `${where}.set_labels`);
      request.removeLabels.forEach((k, i) => {
        if (Object.hasOwn(setLabels, k)) throw invalidArgument(`label ${k} is both set and removed`, `${where}.remove_labels[${i}]`);
      });
      const description = request.description ?? undefined;
      if (description !== undefined && description.length > MAX_DESCRIPTION_LENGTH) {
        throw invalidArgument(`the description is ${description.length} characters long: at most ${MAX_DESCRIPTION_LENGTH}`, `${where}.description`);
      }
      const updated = await store.inTransaction(async (tx) => {
        if (!(await tx.updateVersion(model, version, { setLabels, removeLabels: request.removeLabels, description }))) return false;
        await tx.versionChanged(model, version);
        const changes = [
          ...Object.entries(setLabels).map(([k, v]) => `${k}=${v}`),
          ...request.removeLabels.map((k) => `-${k}`),
          ...(description !== undefined ? ['description'] : []),
        ];
        await tx.recordAuditEvent(auditEvent(context, { model, version, message: `updated version ${version}: ${changes.join(', ') || 'nothing'}` }));
        const now = await tx.getVersion(model, version);
        await tx.recordEvent(labelsChanged(model, version, now?.labels ?? {}, callerName(context.caller)));
        return true;
      });
      deps.cache.evict(model, version);
      deps.events.notify(model, version);
      if (!updated) await requireVersion(store, model, version, where);
      return versionToProto(await requireVersion(store, model, version, where));
    },

    async *DownloadModelVersion(request, context) {
      const { paths } = request;
      const model = canonicalModelName(request.model, 'DownloadModelVersionRequest.model');
      const version = await versionNamed(aliasDeps, model, request, 'DownloadModelVersionRequest');
      const record = await requireVersion(store, model, version, 'DownloadModelVersionRequest');
      let files = record.files;
      if (paths.length) {
        const known = new Map(files.map((f) => [f.path, f]));
        files = paths.map((p, i) => {
          const f = known.get(p);
          if (!f) throw notFound(`version ${record.version} of ${model} has no file ${p}`, `DownloadModelVersionRequest.paths[${i}]`);
          return f;
        });
      }
      // Once the client has cancelled or gone away (or packing failed), the blob stream being read is destroyed (its
      // file or socket freed).
      const failed = new AbortController();
      const gone = AbortSignal.any([context.signal, failed.signal]);
      const stop = () => failed.abort(new KilnError('CANCELLED', 'the download stopped'));
      const openFile = async (f: (typeof files)[number]) => {
        try {
          return await deps.readBlob(f.sha256);
        } catch (err) {
          // The version says the blob is there: its absence is lost data, not a missing file.
          if (!isKilnError(err) || err.code !== 'NOT_FOUND') throw err;
          throw new KilnError('DATA_LOSS', `the bytes of ${model} version ${record.version}'s file ${f.path} are missing from the blob store`, undefined, { cause: err });
        }
      };
      // A blob's stream that breaks off (its store's connection lost) may read whole another time.
      const brokeOff = (path: string, err: unknown) => isKilnError(err) ? err
        : new KilnError('UNAVAILABLE', `reading ${model} version ${record.version}'s file ${path} broke off: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
      const pack = tar.pack();
      const packing = (async () => {
        for (const f of files) {
          // The blob is opened before its entry is added: an entry left without its bytes would fail the whole pack
          // with an error nothing listens to, which ended the process.
          const source = await openFile(f);
          const entry = pack.entry({ name: f.path, size: f.size, mode: f.executable ? 0o755 : 0o644, mtime: new Date(0) });
          await new Promise<void>((resolve, reject) => {
            const onGone = () => {
              source.destroy();
              reject(gone.reason);
            };
            const settle = (err?: unknown) => {
              gone.removeEventListener('abort', onGone);
              if (err) reject(err);
              else resolve();
            };
            source.on('error', (err) => settle(brokeOff(f.path, err)));
            entry.on('error', settle);
            entry.on('finish', () => settle());
            if (gone.aborted) return onGone();
            gone.addEventListener('abort', onGone, { once: true });
            source.pipe(entry);
          });
        }
        pack.finalize();
      })().catch((err) => pack.destroy(err));
      try {
        for await (const chunk of pack as unknown as AsyncIterable<Buffer>) yield { chunk };
        await packing;
      } catch (err) {
        if (context.signal.aborted) return;
        throw err;
      } finally {
        stop(); // lets go of the blob being read, also when the server stops asking for chunks (a cancel)
        pack.destroy();
      }
    },

    async *WatchModelVersion(request, context) {
      const model = canonicalModelName(request.model, 'WatchModelVersionRequest.model');
      let record = await requireVersion(store, model, await versionNamed(aliasDeps, model, request, 'WatchModelVersionRequest'), 'WatchModelVersionRequest');
      const version = record.version;
      // A shutdown ends watches at once (with UNAVAILABLE, below) so that clients reconnect elsewhere.
      const stop = AbortSignal.any([context.signal, context.shutdown]);
      yield { version: versionToProto(record) };
      let lastLine = 0;
      let lastWasLog = false;
      while (!stop.aborted) {
        // The status before the lines: a build stores its last lines before its final status, so once a final status
        // is read every line is there to read, and the watch ends with the status after them.
        const now = await store.getVersion(model, version, true);
        if (!now) break;
        const lines = await store.logLinesAfter(model, version, lastLine);
        for (const l of lines) yield { log: { line: l.line, number: l.number } };
        if (lines.length) {
          lastLine = lines[lines.length - 1].number;
          lastWasLog = true;
        }
        if (now.status !== record.status || now.imageDigest !== record.imageDigest || (isFinal(now.status) && lastWasLog)) {
          // Every watch ends with the final version, also one that replays a finished build's log.
          record = now;
          yield { version: versionToProto(now) };
          lastWasLog = false;
        }
        if (isFinal(now.status)) break;
        if (lines.length === 0) await deps.events.next(model, version, deps.watchPollMs, stop);
      }
      if (context.shutdown.aborted && !context.signal.aborted) throw new KilnError('UNAVAILABLE', 'the registry is shutting down; watch again');
    },
  };
}

/**
 * ListModels' filter for the store. A name prefix is on the canonical name: `default/fr` asks for the default
 * namespace's `fr...`, as `fr` does (with another namespace given, neither matches anything there).
 */
function modelsFilter(namespace: string, namePrefix: string): { namespace?: string; namePrefix: string } {
  const inDefault = `${DEFAULT_NAMESPACE}/`;
  if (namePrefix.startsWith(inDefault)) return { namespace: namespace || DEFAULT_NAMESPACE, namePrefix: namePrefix.slice(inDefault.length) };
  return { namespace: namespace || undefined, namePrefix };
}

function toHeader(h: UploadHeader__Output): UploadHeaderInput {
  const format = archiveFormat(h.format, 'header.format');
  return {
    model: h.model,
    manifest: h.manifest,
    labels: h.labels ?? {},
    metadata: h.metadata ?? {},
    format,
    fileName: h.fileName,
    expectedSize: h.expectedSize,
  };
}

