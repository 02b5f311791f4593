// The kiln.v1.Registry gRPC handlers: request validation and conversion at the edge, the work in upload.ts, gc/ and
// the store.
import { once } from 'node:events';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { RegistryHandlers } from '@kiln/api/generated/kiln/v1/Registry';
import type { UploadHeader__Output } from '@kiln/api/generated/kiln/v1/UploadHeader';
import { invalidArgument, notFound, KilnError } from '@kiln/errors';
import { archiveFormat, openUploadStream } from '@kiln/api/upload-stream';
import { kilnProto } from '@kiln/api';
import { addCallLogFields } from '@kiln/api/server';
import { asMessage, encodeOnce, type Encoded } from '@kiln/api/encoded';
import type { ModelVersion } from '@kiln/api/generated/kiln/v1/ModelVersion';
import type { VersionRecord } from './store';
import { ingestUpload, type UploadDeps, type UploadHeaderInput } from './upload';
import { collectDeletedVersion } from './gc';
import { isFinal } from './lifecycle';
import { decodePageToken, encodePageToken, modelToProto, pageSize, statusFromProto, versionToProto } from './convert';
import { validateModelName } from './names';
import type { VersionEvents } from './events';
import type { VersionCache } from './version-cache';

export interface RegistryDeps extends UploadDeps {
  /** Streams a blob's bytes (for downloads). */
  readBlob(digest: string): Promise<Readable>;
  events: VersionEvents;
  /** How often watchers look at the database when nothing woke them. */
  watchPollMs: number;
  /** Final versions' GetModelVersion responses, encoded once, served from memory. */
  cache: VersionCache<Encoded<ModelVersion>>;
  /** Fails (UNAVAILABLE) when the inference service cannot be reached: an upload checks before it stores a byte,
   * rather than fail once all of it is stored. */
  inferenceReachable(): Promise<void>;
  /** Aborted when the registry shuts down: open watches end with UNAVAILABLE so clients reconnect elsewhere. */
  shutdown: AbortSignal;
}

const serializeVersion = kilnProto().kiln.v1.Registry.service.GetModelVersion.responseSerialize as (v: ModelVersion) => Buffer;

export function registryHandlers(deps: RegistryDeps): RegistryHandlers {
  const { store, log } = deps;

  async function requireVersion(model: string, version: number, where: string): Promise<VersionRecord> {
    validateModelName(model, `${where}.model`);
    if (version < 0) throw invalidArgument('version must not be negative', `${where}.version`);
    const record = await store.getVersion(model, version);
    if (record) return record;
    if (!(await store.modelExists(model))) throw notFound(`model ${model} does not exist`);
    throw notFound(version ? `model ${model} has no version ${version}` : `model ${model} has no versions`);
  }

  return {
    UploadModel(call, callback) {
      const abort = new AbortController();
      let finished = false;
      call.on('cancelled', () => {
        if (!finished) abort.abort(new KilnError('CANCELLED', 'the client cancelled the upload'));
      });
      const run = async () => {
        const opened = await openUploadStream(call, 'UploadModelRequest');
        if (opened.header.model) addCallLogFields(call, { model: opened.header.model });
        const header = toHeader(opened.header);
        await deps.inferenceReachable();
        const { body } = opened;
        abort.signal.addEventListener('abort', () => body.destroy(abort.signal.reason), { once: true });
        const record = await ingestUpload(header, body, deps, abort.signal);
        finished = true;
        callback(null, versionToProto(record));
      };
      return run();
    },

    async GetModelVersion(call, callback) {
      const { model, version } = call.request;
      const cached = version > 0 ? deps.cache.get(model, version) : undefined;
      if (cached) {
        callback(null, asMessage(cached));
        return;
      }
      const readAt = deps.cache.generation();
      const record = await requireVersion(model, version, 'GetModelVersionRequest');
      const response = encodeOnce(serializeVersion, versionToProto(record));
      deps.cache.put(record, response, readAt);
      callback(null, asMessage(response));
    },

    async ListModels(call, callback) {
      const where = 'ListModelsRequest';
      const size = pageSize(call.request.pageSize, `${where}.page_size`);
      const after = decodePageToken<string>(call.request.pageToken, 'string', `${where}.page_token`);
      const models = await store.listModels({ pageSize: size + 1, afterName: after, namePrefix: call.request.namePrefix });
      const page = models.slice(0, size);
      callback(null, {
        models: page.map(modelToProto),
        nextPageToken: models.length > size ? encodePageToken(page[page.length - 1].name) : '',
      });
    },

    async ListModelVersions(call, callback) {
      const where = 'ListModelVersionsRequest';
      const r = call.request;
      validateModelName(r.model, `${where}.model`);
      const size = pageSize(r.pageSize, `${where}.page_size`);
      const before = decodePageToken<number>(r.pageToken, 'number', `${where}.page_token`);
      const statuses = r.statuses.map((s, i) => statusFromProto(String(s), `${where}.statuses[${i}]`));
      if (!(await store.modelExists(r.model))) throw notFound(`model ${r.model} does not exist`);
      const versions = await store.listVersions({ model: r.model, pageSize: size + 1, beforeVersion: before, statuses, labels: r.labels });
      const page = versions.slice(0, size);
      callback(null, {
        versions: page.map(versionToProto),
        nextPageToken: versions.length > size ? encodePageToken(page[page.length - 1].version) : '',
      });
    },

    async DeleteModelVersion(call, callback) {
      const { model, version } = call.request;
      const where = 'DeleteModelVersionRequest';
      validateModelName(model, `${where}.model`);
      if (version <= 0) throw invalidArgument('give the version number to delete', `${where}.version`);
      const deleted = await store.inTransaction(async (tx) => {
        const marked = await tx.markDeleted(model, version);
        if (marked) await tx.versionChanged(model, version);
        return marked;
      });
      deps.cache.evict(model, version);
      if (!deleted) {
        const gone = await store.getVersion(model, version, true);
        if (gone?.status === 'DELETED') throw notFound(`model ${model} version ${version} is already deleted`);
        await requireVersion(model, version, where);
      }
      const vlog = log.child({ model, version });
      // The version is deleted from here on, whatever happens to its blobs: if collecting them fails (or this process
      // dies first), the registry's periodic sweep collects them, so the call still reports the delete.
      await collectDeletedVersion(deps, model, version, deleted!.digests, vlog).catch((err) =>
        vlog.warn({ err }, 'could not collect the deleted version\'s blobs yet; the next sweep does'),
      );
      vlog.info('version deleted');
      deps.events.notify(model, version);
      callback(null, versionToProto(deleted!.record));
    },

    async DownloadModelVersion(call) {
      const { model, version, paths } = call.request;
      const record = await requireVersion(model, version, 'DownloadModelVersionRequest');
      let files = record.files;
      if (paths.length) {
        const known = new Map(files.map((f) => [f.path, f]));
        files = paths.map((p, i) => {
          const f = known.get(p);
          if (!f) throw notFound(`version ${record.version} of ${model} has no file ${p}`, `DownloadModelVersionRequest.paths[${i}]`);
          return f;
        });
      }
      // A client that cancels or goes away gets its call destroyed, which then never drains nor errors: everything
      // below also stops on 'close', and the blob stream being read is destroyed with it (its file or socket freed).
      const gone = new AbortController();
      const stop = () => gone.abort(new KilnError('CANCELLED', 'the client cancelled the download'));
      call.once('cancelled', stop);
      call.once('close', stop);
      const pack = tar.pack();
      const packing = (async () => {
        for (const f of files) {
          const entry = pack.entry({ name: f.path, size: f.size, mode: f.executable ? 0o755 : 0o644, mtime: new Date(0) });
          const source = await deps.readBlob(f.sha256);
          await new Promise<void>((resolve, reject) => {
            const onGone = () => {
              source.destroy();
              reject(gone.signal.reason);
            };
            if (gone.signal.aborted) return onGone();
            gone.signal.addEventListener('abort', onGone, { once: true });
            const settle = (err?: unknown) => {
              gone.signal.removeEventListener('abort', onGone);
              if (err) reject(err);
              else resolve();
            };
            source.on('error', settle);
            entry.on('error', settle);
            entry.on('finish', () => settle());
            source.pipe(entry);
          });
        }
        pack.finalize();
      })().catch((err) => pack.destroy(err));
      try {
        for await (const chunk of pack as unknown as AsyncIterable<Buffer>) {
          if (gone.signal.aborted) return;
          if (!call.write({ chunk })) await once(call, 'drain', { signal: gone.signal });
        }
        await packing;
      } catch (err) {
        if (gone.signal.aborted) return;
        stop(); // also lets go of the blob being read
        throw err;
      } finally {
        pack.destroy();
      }
      call.end();
    },

    async WatchModelVersion(call) {
      const { model } = call.request;
      let record = await requireVersion(model, call.request.version, 'WatchModelVersionRequest');
      const version = record.version;
      const stop = new AbortController();
      call.on('cancelled', () => stop.abort());
      call.on('close', () => stop.abort());
      const onShutdown = () => stop.abort();
      deps.shutdown.addEventListener('abort', onShutdown, { once: true });
      call.on('close', () => deps.shutdown.removeEventListener('abort', onShutdown));
      call.write({ version: versionToProto(record) });
      let lastLine = 0;
      let lastWasLog = false;
      while (!stop.signal.aborted) {
        // The status before the lines: a build stores its last lines before its final status, so once a final status
        // is read every line is there to read, and the watch ends with the status after them.
        const now = await store.getVersion(model, version, true);
        if (!now) break;
        const lines = await store.logLinesAfter(model, version, lastLine);
        for (const l of lines) call.write({ log: { line: l.line, number: l.number } });
        if (lines.length) {
          lastLine = lines[lines.length - 1].number;
          lastWasLog = true;
        }
        if (now.status !== record.status || now.imageDigest !== record.imageDigest || (isFinal(now.status) && lastWasLog)) {
          // Every watch ends with the final version, also one that replays a finished build's log.
          record = now;
          call.write({ version: versionToProto(now) });
          lastWasLog = false;
        }
        if (isFinal(now.status)) break;
        if (lines.length === 0) await deps.events.next(model, version, deps.watchPollMs, stop.signal);
      }
      if (deps.shutdown.aborted && !call.cancelled) throw new KilnError('UNAVAILABLE', 'the registry is shutting down; watch again');
      call.end();
    },
  };
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

