// Sink: an OCI image layout directory (oci-layout, index.json, blobs/sha256/...), readable by skopeo and umoci.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import lockfile from 'proper-lockfile';
import { Transform } from 'node:stream';
import { KilnError, invalidArgument } from '@kiln/errors';
import { assertDigest, digestHex, sha256Digest } from '../digest';
import { MediaType, type Blob, type Descriptor, type Image, type ImageIndex, type ImageSink, type TagResult, type UntagResult, type WriteResult } from '../types';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export function blobPath(dir: string, digest: string): string {
  return path.join(dir, 'blobs', 'sha256', digestHex(digest));
}

/** Waiting for another writer's index update: short holds, so many quick retries (about 30 s in all). */
const INDEX_LOCK_RETRIES = { retries: 150, minTimeout: 10, maxTimeout: 200 };
/**
 * A writer's lock on its temp file (`<tmp>.lock`, whose mtime proper-lockfile refreshes while the write runs): a temp
 * file with no lock, or one not refreshed for `stale` ms, is a dead writer's, from this process or another.
 */
const TEMP_LOCK = { realpath: false, stale: 10_000 };

/**
 * Writes images into an OCI layout at `dir`, tagging each with the ref-name annotation in index.json (an entry with
 * the same ref is replaced). Blobs already present with the right size are not written again; a blob is written to a
 * temporary name, its digest checked, and only then renamed into place, so a failed write leaves no bad blob and no
 * temp file. A write first removes the temp files of writes that were killed. tag() points another ref name at a
 * manifest already in the layout and untag() removes a ref name's entry (never a blob), under the same index lock.
 */
export function ociLayoutSink(dir: string): ImageSink {
  return {
    async digestOf(ref: string): Promise<string | null> {
      const index = await readIndex(path.join(dir, 'index.json'));
      return index.manifests.find((m) => m.annotations?.[REF_NAME_ANNOTATION] === ref)?.digest ?? null;
    },
    async write(image: Image, ref: string): Promise<WriteResult> {
      checkRefName(ref, dir);
      await fs.mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
      // What writes killed since the start left (one just before it still had a fresh lock then).
      await removeTemporaryFiles(dir);
      await writeIfMissing(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

      const result: WriteResult = { digest: image.digest, uploaded: [], existing: [], mounted: [] };
      const blobs: Blob[] = [...image.layers, image.configBlob];
      const done = new Set<string>();
      for (const blob of blobs) {
        if (done.has(blob.digest)) continue;
        done.add(blob.digest);
        (await writeBlob(dir, blob)) ? result.uploaded.push(blob.digest) : result.existing.push(blob.digest);
      }
      await writeBytesBlob(dir, image.digest, image.rawManifest);

      const indexPath = path.join(dir, 'index.json');
      const entry: Descriptor = {
        mediaType: image.mediaType,
        digest: image.digest,
        size: image.rawManifest.length,
        annotations: { [REF_NAME_ANNOTATION]: ref },
      };
      await updateIndex(indexPath, (index) => {
        index.manifests = [...index.manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] !== ref), entry];
        return true;
      });
      return result;
    },
    async tag(ref: string, digest: string): Promise<TagResult> {
      checkRefName(ref, dir);
      assertDigest(digest, 'digest');
      const manifestPath = blobPath(dir, digest);
      let raw: Buffer;
      try {
        raw = await fs.readFile(manifestPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        throw new KilnError('FAILED_PRECONDITION', `manifest ${digest} is not in the OCI layout: its image was never written there, or was removed`, dir);
      }
      if (sha256Digest(raw) !== digest) throw new KilnError('FAILED_PRECONDITION', `the blob stored as ${digest} has other bytes`, manifestPath);
      const indexPath = path.join(dir, 'index.json');
      let changed = false;
      await updateIndex(indexPath, (index) => {
        const current = index.manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] === ref);
        if (current.length === 1 && current[0].digest === digest) return false;
        const entry: Descriptor = {
          mediaType: manifestMediaType(raw, index.manifests.find((m) => m.digest === digest)?.mediaType),
          digest,
          size: raw.length,
          annotations: { [REF_NAME_ANNOTATION]: ref },
        };
        index.manifests = [...index.manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] !== ref), entry];
        return (changed = true);
      });
      return { digest, changed };
    },
    async untag(ref: string, options: { ifDigest?: string } = {}): Promise<UntagResult> {
      checkRefName(ref, dir);
      if (options.ifDigest) assertDigest(options.ifDigest, 'digest');
      const indexPath = path.join(dir, 'index.json');
      // No layout yet: no tag to remove (and no lock to take in a folder that is not there).
      if (!(await exists(indexPath))) return { removed: true };
      await updateIndex(indexPath, (index) => {
        const keep = index.manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] !== ref
          || (options.ifDigest !== undefined && m.digest !== options.ifDigest));
        if (keep.length === index.manifests.length) return false;
        index.manifests = keep;
        return true;
      });
      return { removed: true };
    },
  };
}

function checkRefName(ref: string, dir: string): void {
  if (!ref || /[\s]/.test(ref)) throw invalidArgument(`bad ref name ${JSON.stringify(ref)}`, dir);
}

/**
 * Reads, changes and writes index.json under a lock (index.json.lock, a directory: atomic on every file system, and
 * seen by other processes writing the same layout), so that concurrent writes never drop each other's refs.
 * `change` edits the index in place and says whether to write it.
 */
async function updateIndex(indexPath: string, change: (index: ImageIndex) => boolean): Promise<void> {
  const release = await lockfile.lock(indexPath, { realpath: false, retries: INDEX_LOCK_RETRIES, stale: 30_000 })
    .catch((err: Error) => {
      throw new KilnError('UNAVAILABLE', `cannot lock index.json: ${err.message}`, indexPath);
    });
  try {
    const index = await readIndex(indexPath);
    if (change(index)) await atomicWrite(indexPath, JSON.stringify(index));
  } finally {
    await release();
  }
}

/** A stored manifest's media type: its own `mediaType` field, else what an index entry says, else its shape's. */
function manifestMediaType(raw: Buffer, known: string | undefined): string {
  let parsed: { mediaType?: unknown; manifests?: unknown };
  try {
    parsed = JSON.parse(raw.toString('utf8')) as typeof parsed;
  } catch {
    throw new KilnError('FAILED_PRECONDITION', 'the blob to tag is not a JSON manifest', sha256Digest(raw));
  }
  if (typeof parsed.mediaType === 'string' && parsed.mediaType) return parsed.mediaType;
  return known ?? (Array.isArray(parsed.manifests) ? MediaType.OCI_INDEX : MediaType.OCI_MANIFEST);
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

export async function readIndex(indexPath: string): Promise<ImageIndex> {
  try {
    const index = JSON.parse(await fs.readFile(indexPath, 'utf8')) as ImageIndex;
    if (!Array.isArray(index.manifests)) throw new Error('no manifests array');
    return index;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [] };
    }
    throw new KilnError('FAILED_PRECONDITION', `unreadable index.json: ${(err as Error).message}`, indexPath);
  }
}

/** Streams a blob into place unless it is there with the right size. Returns true when bytes were written. */
async function writeBlob(dir: string, blob: Blob): Promise<boolean> {
  const dest = blobPath(dir, blob.digest);
  if (await hasSize(dest, blob.size)) return false;
  await writeViaTemp(dest, async (tmp) => {
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    const out = createWriteStream(tmp);
    // On an error pipeline rejects without waiting for the file to close; removed before it is even created, the
    // temp file would stay.
    await pipeline(blob.open(), tap, out).catch(async (err) => {
      if (!out.closed) await new Promise<void>((closed) => out.once('close', () => closed()));
      throw err;
    });
    const digest = `sha256:${hash.digest('hex')}`;
    if (digest !== blob.digest || size !== blob.size) {
      throw new KilnError('FAILED_PRECONDITION', `blob streamed as ${digest} (${size} bytes), expected ${blob.digest} (${blob.size})`, dest);
    }
  });
  return true;
}

/** Writes `dest` through a temp file beside it, held under its lock while written, then renamed into place; the temp
 * file goes whatever happens (a killed write's is removed by removeTemporaryFiles). */
async function writeViaTemp(dest: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dest}.${randomBytes(6).toString('hex')}.tmp`;
  let compromised: Error | undefined;
  // A lock not refreshed in time (a stalled event loop) may let a cleanup take the file: the write then fails.
  const release = await lockfile.lock(tmp, { ...TEMP_LOCK, onCompromised: (err) => void (compromised = err) });
  try {
    await write(tmp);
    if (compromised) throw new KilnError('UNAVAILABLE', `the temp file's lock was lost: ${compromised.message}`, tmp);
    await fs.rename(tmp, dest);
  } finally {
    await fs.rm(tmp, { force: true });
    await release().catch(() => {}); // compromised, or removed as stale: nothing left to release
  }
}

/**
 * Removes the temp files of writes that died (killed mid-write: no live writer holds their lock) from the layout at
 * `dir`, with their locks; a write in progress, in this process or another, keeps its own. Returns how many went.
 */
export async function removeTemporaryFiles(dir: string): Promise<number> {
  let removed = 0;
  for (const folder of [dir, path.join(dir, 'blobs', 'sha256')]) {
    let names: string[];
    try {
      names = await fs.readdir(folder);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    // A temp file, its lock, or both (a write killed before it created the file, or after it removed it).
    const temps = new Set(names.filter((n) => /\.tmp(\.lock)?$/.test(n)).map((n) => n.replace(/\.lock$/, '')));
    for (const name of temps) {
      const tmp = path.join(folder, name);
      if (await lockfile.check(tmp, TEMP_LOCK)) continue;
      await fs.rm(tmp, { force: true });
      await fs.rm(`${tmp}.lock`, { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

async function writeBytesBlob(dir: string, digest: string, bytes: Buffer): Promise<void> {
  const dest = blobPath(dir, digest);
  if (await hasSize(dest, bytes.length)) return;
  await atomicWrite(dest, bytes);
}

async function hasSize(file: string, size: number): Promise<boolean> {
  try {
    return (await fs.stat(file)).size === size;
  } catch {
    return false;
  }
}

async function writeIfMissing(file: string, content: string): Promise<void> {
  try {
    await fs.access(file);
  } catch {
    await atomicWrite(file, content);
  }
}

async function atomicWrite(file: string, content: string | Buffer): Promise<void> {
  await writeViaTemp(file, (tmp) => fs.writeFile(tmp, content));
}
