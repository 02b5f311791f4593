// The builder's layer-digest cache: a small JSON file in the data dir, so a rebuild with an unchanged weight file
// knows its layer digest without reading the file again. It is the fast first level: large layers are also in the
// registry's layer index (@kiln/oci's registryLayerIndex), shared by every builder, which daemonless.ts asks on a miss.
//
// Why it is safe: a key (from @kiln/oci's layerCacheKey) is the sha256 of the layer's tar format version and of every
// file's sha256, size, mode and path, i.e. everything the tar bytes are made of. The same key always means the same
// bytes, so an entry can never go stale; at worst it is lost (then the layer is hashed again). A corrupt entry could
// not produce a bad image unnoticed either: sinks check the bytes they stream against the digest (the OCI layout
// sink hashes them, a registry verifies the digest on upload).
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { LayerCache, LayerDigests } from '@kiln/oci';

const MAX_ENTRIES = 50_000;

export class FileLayerCache implements LayerCache {
  private entries?: Map<string, LayerDigests>;
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  async get(key: string): Promise<LayerDigests | undefined> {
    return (await this.load()).get(key);
  }

  async set(key: string, value: LayerDigests): Promise<void> {
    const entries = await this.load();
    entries.delete(key);
    entries.set(key, value);
    // Oldest first out: Map keeps insertion order.
    while (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
    // Writes go one after another, each a whole new file renamed into place.
    this.writing = this.writing.then(() => this.save(), () => this.save());
    await this.writing;
  }

  private async load(): Promise<Map<string, LayerDigests>> {
    if (this.entries) return this.entries;
    let parsed: Record<string, LayerDigests> = {};
    try {
      parsed = JSON.parse(await fs.readFile(this.file, 'utf8')) as Record<string, LayerDigests>;
    } catch {
      // Missing or unreadable: start empty; the cache is only ever an optimisation.
    }
    this.entries ??= new Map(Object.entries(parsed).filter(([, v]) => isDigests(v)));
    return this.entries;
  }

  private async save(): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(Object.fromEntries(this.entries ?? [])));
    await fs.rename(tmp, this.file);
  }
}

function isDigests(v: unknown): v is LayerDigests {
  const d = v as LayerDigests;
  return typeof d === 'object' && d !== null && /^sha256:[a-f0-9]{64}$/.test(d.digest) &&
    /^sha256:[a-f0-9]{64}$/.test(d.diffID) && Number.isSafeInteger(d.size) &&
    (d.origin === undefined || (typeof d.origin?.registry === 'string' && typeof d.origin.repository === 'string'));
}
