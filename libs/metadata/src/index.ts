// Kiln's metadata database: a `pg` pool on a real Postgres (DATABASE_URL) or on an embedded PGlite served on
// loopback (embedded.ts), so the same `pg` code runs on both; and versioned migrations (node-pg-migrate).
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { openEmbedded, type EmbeddedTemplate } from './embedded';

export { ensureTemplate, makeSpare, type EmbeddedTemplate } from './embedded';

export interface DatabaseOptions {
  /** A Postgres URL; when absent an embedded PGlite keeps its data in embeddedDir. */
  url?: string;
  embeddedDir: string;
  poolSize: number;
  /** The state a new embedded database starts in, copied from a template made once (see embedded.ts). */
  template?: EmbeddedTemplate;
}

export interface Database {
  pool: pg.Pool;
  /** The URL the pool connects to (the embedded server's loopback address for PGlite). */
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

// int8 (bigint) columns come back as JS numbers: versions, sizes and counts stay far below 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));

/** Longest wait for a connection: a new one to the server, or a pooled one to come free. */
const CONNECT_TIMEOUT_MS = 10_000;

export async function openDatabase(options: DatabaseOptions, log: Logger): Promise<Database> {
  if (options.url) {
    // A server that stops answering (a host gone, not refusing) fails a call after this long, rather than hold it
    // until the client's deadline: the error is one the registry reports as UNAVAILABLE.
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    pool.on('error', (err) => log.error({ err }, 'idle postgres connection failed'));
    return { pool, url: options.url, embedded: false, close: () => pool.end() };
  }
  return openEmbedded(options.embeddedDir, log, options.template);
}

const MIGRATIONS_TABLE = 'kiln_migrations';

/** Applies the SQL migrations in `dir` (numbered files) that have not run yet; safe to call from every replica. */
export async function migrate(db: Database, dir: string, log: Logger): Promise<void> {
  // Most starts have nothing to apply: one query says so, and node-pg-migrate (its load, its lock and its checks, a
  // few hundred milliseconds of a start) runs only when a migration is missing.
  if (await allApplied(db.pool, dir)) return;
  const { runner } = await import('node-pg-migrate');
  const client = await db.pool.connect();
  try {
    const applied = await runner({
      dbClient: client,
      dir,
      direction: 'up',
      migrationsTable: MIGRATIONS_TABLE,
      singleTransaction: true,
      log: (msg: string) => log.debug(msg),
      logger: { debug: () => {}, info: (m: string) => log.debug(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) },
    });
    if (applied.length) log.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
  } finally {
    client.release();
  }
}

/** Whether exactly the migration files in `dir` are recorded as run (node-pg-migrate records a file's name without
 * its extension). A table that does not exist yet, or any doubt, is a no: the runner then decides. */
async function allApplied(pool: pg.Pool, dir: string): Promise<boolean> {
  const files = (await readdir(dir)).filter((f) => !f.startsWith('.')).map((f) => path.basename(f, path.extname(f)));
  try {
    const { rows } = await pool.query<{ table: string | null }>('SELECT to_regclass($1)::text AS table', [MIGRATIONS_TABLE]);
    if (!rows[0]?.table) return false;
    const applied = await pool.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE}`);
    const names = new Set(applied.rows.map((r) => r.name));
    // Equal sets only: a migration recorded that no file has (a database of a newer Kiln) is the runner's to report.
    return names.size === files.length && files.every((f) => names.has(f));
  } catch {
    return false;
  }
}

/** Runs fn in a transaction on one pooled client; rolls back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
