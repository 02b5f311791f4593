// Final versions (RELEASED, FAILED: see lifecycle.ts) change only by a delete, an alias move or an edit of their
// labels, so GetModelVersion serves them from memory (what it keeps per version is up to it: the registry keeps the
// encoded response), and aliases' versions too. A change evicts them here and, through Postgres NOTIFY in the
// changing transaction, in every other registry replica that LISTENs; a replica that loses its listening connection
// forgets everything until it listens again.
import { LRUCache } from 'lru-cache';
import pg from 'pg';
import type { Logger } from 'pino';
import type { VersionRecord } from './store';
import { isFinal, isVisible } from './lifecycle';

export const VERSION_CHANGES_CHANNEL = 'kiln_version_changes';

const key = (model: string, version: number) => `${model}:${version}`;
const aliasKey = (model: string, alias: string) => `${model}@${alias}`;
/** A notification's payload: `model\nversion`, or `model\n@alias` for an alias (a version is a number). */
const ALIAS_MARK = '@';

export class VersionCache<T extends object> {
  // lru-cache keeps its recency list in typed arrays: a hit allocates nothing, where re-inserting into a Map churns
  // its hash table (garbage that, at thousands of hits a second, lengthens the collector's pauses).
  private readonly entries: LRUCache<string, T>;
  private readonly aliases: LRUCache<string, number>;
  /** False while no listener guarantees that other replicas' deletes reach us (then nothing is cached). */
  private listening: boolean;
  private listener?: pg.Client;
  private stopped = false;
  /** Counts evictions, so a record read before an eviction is not cached after it (it may be the deleted one). */
  private evictions = 0;

  constructor(maxEntries: number, private readonly log: Logger, shared: boolean) {
    this.entries = new LRUCache({ max: maxEntries });
    this.aliases = new LRUCache({ max: maxEntries });
    // An embedded database has exactly one registry: its own evictions are all there are.
    this.listening = !shared;
  }

  get(model: string, version: number): T | undefined {
    return this.entries.get(key(model, version));
  }

  /** Take before reading from the database; pass to put(). */
  generation(): number {
    return this.evictions;
  }

  /** Keeps `value` for the version `record` is, if the version is final and nothing was evicted since readAt. */
  put(record: Pick<VersionRecord, 'model' | 'version' | 'status'>, value: T, readAt: number): void {
    if (readAt !== this.evictions || !this.listening || !isFinal(record.status) || !isVisible(record.status)) return;
    this.entries.set(key(record.model, record.version), value);
  }

  evict(model: string, version: number): void {
    this.evictions += 1;
    this.entries.delete(key(model, version));
  }

  /** The version an alias points at, if known. */
  aliasVersion(model: string, alias: string): number | undefined {
    return this.aliases.get(aliasKey(model, alias));
  }

  /** Keeps where an alias points, if nothing was evicted since readAt. */
  putAlias(model: string, alias: string, version: number, readAt: number): void {
    if (readAt !== this.evictions || !this.listening) return;
    this.aliases.set(aliasKey(model, alias), version);
  }

  evictAlias(model: string, alias: string): void {
    this.evictions += 1;
    this.aliases.delete(aliasKey(model, alias));
  }

  /** Listens for other replicas' changes on a connection of its own; reconnects after a loss. */
  async listen(url: string): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: url });
    const lost = (err?: unknown) => {
      if (this.listener !== client) return;
      this.listening = false;
      this.evictions += 1;
      this.entries.clear();
      this.aliases.clear();
      this.listener = undefined;
      client.end().catch(() => {});
      if (this.stopped) return;
      this.log.warn({ err }, 'version cache lost its listener; caching paused until it reconnects');
      setTimeout(() => void this.listen(url).catch(() => lost()), 1000).unref();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (msg) => {
      const [model, changed = ''] = (msg.payload ?? '').split('\n');
      if (changed.startsWith(ALIAS_MARK)) this.evictAlias(model, changed.slice(ALIAS_MARK.length));
      else this.evict(model, Number(changed));
    });
    this.listener = client;
    await client.connect();
    await client.query(`LISTEN ${VERSION_CHANGES_CHANNEL}`);
    this.listening = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const client = this.listener;
    this.listener = undefined;
    this.listening = false;
    await client?.end().catch(() => {});
  }
}

/** Tells every replica's cache that an alias moved or went; sent on commit, like notifyVersionChanged. */
export async function notifyAliasChanged(tx: pg.PoolClient, model: string, alias: string): Promise<void> {
  await tx.query('SELECT pg_notify($1, $2)', [VERSION_CHANGES_CHANNEL, `${model}\n${ALIAS_MARK}${alias}`]);
}

/** Tells every replica's cache that a version changed; runs in the changing transaction, so it is sent on commit. */
export async function notifyVersionChanged(tx: pg.PoolClient, model: string, version: number): Promise<void> {
  await tx.query('SELECT pg_notify($1, $2)', [VERSION_CHANGES_CHANNEL, `${model}\n${version}`]);
}
