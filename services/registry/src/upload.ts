// The upload path: an archive stream becomes stored blobs and then, only once every byte is stored and validated,
// a new version. A failed or cancelled upload leaves no version and no blob that nothing else uses.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { readArchive, type ArchiveFormat, type ArchiveLimits } from '@kiln/archive';
import type { StagingObject } from '@kiln/blobstore';
import { invalidArgument, unavailable, type KilnError } from '@kiln/errors';
import { uploadBytes } from './metrics';
import type { Contract } from '@kiln/contract/types';
import { MAX_MANIFEST_BYTES, parseManifest, payloadMatcher } from '@kiln/manifest';
import { compareCodeUnits } from '@kiln/std';
import type { RegistryStore, StoredFile, StoreTransaction, VersionRecord } from './store';
import { releaseUpload, type UploadBlobs } from './gc';
import { canonicalModelName, validateLabels } from './names';

/** What the upload path needs of the blob store: two-phase writes, so a blob is referenced before it is visible, that
 * name what they leave in the store before sending bytes (recorded under the upload's lease), and removal by name. */
export interface UploadBlobStore extends UploadBlobs {
  stage(source: Readable, options: { signal?: AbortSignal; maxBytes?: number; onStaging?(object: StagingObject): Promise<void> }): Promise<StagedBlob>;
}
export interface StagedBlob {
  digest: string;
  size: number;
  /** Makes the blob visible under its digest (a no-op when it already is). */
  commit(): Promise<void>;
  /** Drops the staged bytes. */
  abort(): Promise<void>;
}

export interface UploadHeaderInput {
  model: string;
  manifest: string;
  labels: Record<string, string>;
  metadata: Record<string, string>;
  format: ArchiveFormat;
  fileName: string;
  expectedSize: number;
}

export interface UploadDeps {
  store: RegistryStore;
  blobs: UploadBlobStore;
  limits: ArchiveLimits;
  log: Logger;
  /** Infers the contract of the stored files (the inference service), merged with the manifest's. */
  inferContract(files: StoredFile[], manifest: string): Promise<{ contract: Contract | null; metadata: Record<string, string> }>;
  /** Runs inside the transaction that creates the version: enqueues its build. */
  onVersionCreated(tx: StoreTransaction, version: VersionRecord): Promise<void>;
  /** An upload's lease (KILN_UPLOAD_LEASE_SECONDS), renewed every third of it: once it lapses, any registry sweeps
   * what the upload left. */
  uploadLeaseMs: number;
}

const MANIFEST_NAMES = ['kiln.yaml', 'kiln.yml', 'serving.yaml', 'serving.yml'];
/** How many left-out paths a version names (its count says how many there were): a version's view stays small. */
export const EXCLUDED_PATHS_KEPT = 100;

export async function ingestUpload(
  given: UploadHeaderInput,
  body: Readable,
  deps: UploadDeps,
  signal: AbortSignal,
  /** Runs in the transaction that creates the version, last: its audit record. */
  recordCreation?: (tx: StoreTransaction, version: VersionRecord) => Promise<void>,
): Promise<VersionRecord> {
  const header = { ...given, model: canonicalModelName(given.model, 'header.model') };
  validateLabels(header.labels, 'header.labels');
  // INVALID_ARGUMENT like every other limit (see ArchiveLimits): this upload can never be accepted as it is.
  if (header.expectedSize > deps.limits.maxTotalBytes) {
    throw invalidArgument(`the upload is ${header.expectedSize} bytes, over the limit of ${deps.limits.maxTotalBytes} bytes for the whole upload`, 'header.expected_size');
  }
  const uploadId = randomUUID();
  const log = deps.log.child({ model: header.model, upload: uploadId });
  const files: StoredFile[] = [];
  const manifests = new Map<string, string>();
  let committed = false;
  const leaseMs = deps.uploadLeaseMs;
  // Before anything is stored: whatever the upload opens is recorded under this lease.
  await deps.store.takeUploadLease(uploadId, leaseMs);
  // A lease lost to a sweep (not renewed for a lease period: the database out of reach) means the sweep is removing
  // what this upload stored: it stops at once.
  const lost = new AbortController();
  const uploadSignal = AbortSignal.any([signal, lost.signal]);
  const heartbeat = setInterval(() => {
    deps.store.renewUploadLease(uploadId, leaseMs).then(
      (held) => held || lost.abort(leaseLost()),
      (err) => log.warn({ err }, 'could not renew the upload\'s lease; the next renewal tries again'),
    );
  }, leaseMs / 3).unref();
  try {
    const summary = await readArchive(body, {
      format: header.format,
      fileName: header.fileName || undefined,
      limits: deps.limits,
      expectedBytes: header.expectedSize,
      onFile: async (file, content) => {
        let source: Readable = content;
        if (MANIFEST_NAMES.includes(file.path) && !header.manifest) {
          // The manifest is read from memory (it is small or refused) and stored like any other file.
          const bytes = await readManifestFile(file.path, file.size, content);
          manifests.set(file.path, bytes.toString('utf8'));
          source = Readable.from([bytes]);
        }
        let stagedKey: string | undefined;
        const staged = await deps.blobs.stage(source, {
          signal: uploadSignal,
          maxBytes: deps.limits.maxFileBytes,
          onStaging: async (object) => {
            await deps.store.recordStagedObject(uploadId, object);
            stagedKey = object.key;
          },
        });
        try {
          await deps.store.inTransaction(async (tx) => {
            await tx.lockBlob(staged.digest);
            await tx.addPendingBlob(uploadId, staged.digest);
            // Should the upload die after the commit, the sweep knows the object as this blob's and leaves it.
            if (stagedKey) await tx.setStagedDigest(uploadId, stagedKey, staged.digest);
          });
          await staged.commit();
        } catch (err) {
          await staged.abort().catch(() => {}); // its record stays until the release removes it again by name
          throw err;
        }
        if (stagedKey) await deps.store.forgetStagedObjects(uploadId, stagedKey);
        files.push({ path: file.path, size: staged.size, sha256: staged.digest, executable: file.executable });
        uploadBytes.inc(staged.size);
      },
    });
    const byPath = new Map(files.map((f) => [f.path, f]));
    for (const link of summary.links) {
      const target = byPath.get(link.target)!;
      files.push({ path: link.path, size: target.size, sha256: target.sha256, executable: link.executable || target.executable });
    }
    if (!files.length) throw invalidArgument('the upload holds no files', 'archive');

    const manifestText = header.manifest || MANIFEST_NAMES.map((n) => manifests.get(n)).find((t) => t !== undefined) || '';
    const manifestSource = header.manifest ? 'header.manifest' : MANIFEST_NAMES.find((n) => manifests.has(n)) ?? '';
    const manifest = manifestText ? parseManifest(manifestText, manifestSource) : null;
    let selected = files;
    let excluded: { paths: string[]; count: number } | undefined;
    if (manifest?.payload?.length) {
      const matcher = payloadMatcher(manifest);
      selected = files.filter((f) => matcher(f.path));
      if (!selected.length) throw invalidArgument('the payload globs select none of the uploaded files', `${manifestSource}: payload`);
      // The root manifest is the version's manifest, kept whole: not a file the payload dropped.
      const left = files.filter((f) => !matcher(f.path) && !MANIFEST_NAMES.includes(f.path)).map((f) => f.path).sort(compareCodeUnits);
      excluded = { paths: left.slice(0, EXCLUDED_PATHS_KEPT), count: left.length };
      if (left.length) log.info({ excluded: left.length }, 'files outside the manifest\'s payload are left out');
    }
    // A header with no bytes after it (or only empty files) would make a version that no runtime can load: refused,
    // rather than kept as a model of zero bytes.
    if (selected.every((f) => f.size === 0)) {
      const which = selected === files ? 'archive' : `${manifestSource}: payload`;
      const named = selected.slice(0, 3).map((f) => f.path).join(', ') + (selected.length > 3 ? ', ...' : '');
      const what = selected.length === 1 ? `${named} holds` : `its ${selected.length} files (${named}) hold`;
      throw invalidArgument(`the model is empty: ${what} no bytes, and a model needs at least one`, which);
    }
    if (manifest?.name && manifest.name !== header.model) {
      log.info({ manifestName: manifest.name }, 'manifest names another model; the upload header decides');
    }
    validateLabels(manifest?.labels ?? {}, `${manifestSource}: labels`);

    const inferred = await deps.inferContract(selected, manifestText);
    if (uploadSignal.aborted) throw uploadSignal.reason;
    const labels = { ...(manifest?.labels ?? {}), ...header.labels };
    const metadata = { ...inferred.metadata, ...(manifest?.metadata ?? {}), ...header.metadata };
    const record = await deps.store.inTransaction(async (tx) => {
      // Held until the version commits: a sweep that claimed the upload may have removed its blobs already.
      if (!(await tx.renewUploadLease(uploadId, leaseMs))) throw leaseLost();
      const created = await tx.insertVersion({
        model: header.model,
        files: selected,
        excluded,
        manifest: manifestText,
        labels,
        metadata,
        contract: inferred.contract,
        runtime: manifest?.runtime ?? '',
      });
      await deps.onVersionCreated(tx, created);
      await recordCreation?.(tx, created);
      // Last look before the version becomes visible: a cancellation noticed by now rolls it all back.
      if (signal.aborted) throw signal.reason;
      return created;
    });
    committed = true;
    log.info({ version: record.version, files: record.files.length, bytes: record.totalSize }, 'version created');
    return record;
  } catch (err) {
    throw lost.signal.aborted ? lost.signal.reason : err;
  } finally {
    // Either way the upload's own references end here: the version's files now hold theirs. Blobs nothing uses
    // (a failed upload's, or files outside the payload) and what it still has open are removed, then its lease ends.
    await releaseUpload(deps, uploadId, log).catch((err) =>
      log.error({ err, committed }, 'could not release the upload\'s leftovers; the sweep does once its lease lapses'),
    );
    clearInterval(heartbeat);
  }
}

/** UNAVAILABLE: what keeps a lease from being renewed is the database out of reach, and sending again can succeed. */
function leaseLost(): KilnError {
  return unavailable('the upload could not renew its lease for a lease period and what it stored was swept; send it again', 'upload');
}

/**
 * A root manifest's bytes; one over the manifest limit is refused rather than taken for a model file, which would
 * silently drop the manifest. A single-file upload's size is unknown (-1) until read, so the read is bounded too.
 */
async function readManifestFile(path: string, size: number, content: Readable): Promise<Buffer> {
  const tooLarge = () => invalidArgument(`the manifest is larger than ${MAX_MANIFEST_BYTES} bytes, the most a manifest may be`, path);
  if (size > MAX_MANIFEST_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of content) {
    length += (chunk as Buffer).length;
    if (length > MAX_MANIFEST_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
