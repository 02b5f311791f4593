// The embedded database: PGlite served on loopback with pglite-socket, so the `pg` code that runs on a real Postgres
// runs on it unchanged; and the templates that spare a new data folder its set-up.
//
// A new embedded database costs PGlite's initdb (about 2.5 s of wasm on a 2-core machine) and then its owner's schema
// (migrations, the build queue's tables: ~0.7 s more), most of a first `npm start`. Every new database that one
// PGlite build and one schema make is the same, so it is made once, kept as a template beside the installed packages
// (node_modules/.cache/kiln: gone with the next `npm ci`), and copied into each new data folder instead. A template
// is named by the PGlite version and its owner's key (a digest of the schema), so a schema change makes a new one.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, copyFile, mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { forEachConcurrently } from '@kiln/std';
import type { Database } from './index';

/** What a new database is brought to before it serves: made once into a template, then copied. */
export interface EmbeddedTemplate {
  /** Names the state `prepare` makes (for example a digest of the migrations): another key, another template. */
  key: string;
  /** Brings a new, empty database to that state. */
  prepare(db: Database): Promise<void>;
  /** Where templates are kept: node_modules/.cache/kiln unless given. */
  home?: string;
}

const MARKER = 'PG_VERSION';
const TEMPLATE_PREFIX = 'pglite-';

export async function openEmbedded(dir: string, log: Logger, template?: EmbeddedTemplate): Promise<Database> {
  const started = performance.now();
  const seeded = template ? await seedDataDir(dir, template, log) : false;
  const seedMs = Math.round(performance.now() - started);
  // PGlite is one single-connection Postgres: one socket connection and a pool of one, so transactions never
  // interleave on the shared backend.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  await mkdir(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', (err) => log.error({ err }, 'embedded postgres connection failed'));
  log.info({ dir, url, seeded, seedMs, openMs: Math.round(performance.now() - started) - seedMs }, 'embedded PGlite started');
  return {
    pool,
    url,
    embedded: true,
    async close() {
      await pool.end();
      await server.stop();
      await db.close();
    },
  };
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** node_modules/.cache/kiln, beside the installed PGlite, and PGlite's version. */
async function templateHome(): Promise<{ home: string; pgliteVersion: string }> {
  // PGlite exports no package.json; its entry is <package>/dist/index.cjs.
  const packageDir = path.resolve(path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), '..');
  const { version } = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return { home: path.join(packageDir, '..', '..', '.cache', 'kiln'), pgliteVersion: version };
}

/** A sibling of `target` to build in, renamed into place when whole: no reader ever sees half a data folder. */
const stagingFor = (target: string) => `${target}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;

/**
 * The template's folder, made first if missing (with its spare); undefined when it cannot be made (a read-only
 * installation).
 */
export async function ensureTemplate(template: EmbeddedTemplate, log: Logger): Promise<string | undefined> {
  const { home: defaultHome, pgliteVersion } = await templateHome();
  const home = template.home ?? defaultHome;
  const version = `${TEMPLATE_PREFIX}${pgliteVersion}-`;
  const name = `${version}${template.key}`;
  const folder = path.join(home, name);
  if (await exists(path.join(folder, MARKER))) return folder;
  const staging = stagingFor(folder);
  try {
    await mkdir(home, { recursive: true });
    const db = await openEmbedded(staging, log);
    try {
      await template.prepare(db);
    } finally {
      await db.close();
    }
    await rename(staging, folder).catch(async (err: NodeJS.ErrnoException) => {
      // Another process made it first: theirs serves as well.
      if (!(await exists(path.join(folder, MARKER)))) throw err;
    });
    // Another PGlite's templates can serve no one here. Another schema's may still (a test of an older schema, a
    // process started before a migration was added) and go with the next `npm ci`.
    for (const old of await readdir(home)) {
      if (old.startsWith(TEMPLATE_PREFIX) && !old.startsWith(version) && !old.endsWith('.tmp')) await rm(path.join(home, old), { recursive: true, force: true });
    }
    await makeSpare(folder, log);
    log.info({ template: folder }, 'embedded database template made');
    return folder;
  } catch (err) {
    log.warn({ err, template: folder }, 'no embedded database template: new databases are made from scratch');
    return undefined;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Fills a new embedded data folder from the template. Leaves a folder that holds anything (a database, or whatever
 * PGlite makes of it) alone, and returns false when no template can be had: PGlite then runs initdb itself and the
 * owner brings the schema.
 *
 * Copying a template's ~970 files still takes 0.2-0.7 s on a busy 2-core machine (file creation, not bytes), so a
 * spare copy waits beside the template: a new data folder on the same file system takes it by rename, at once, and a
 * new spare is copied after the start, off its critical path.
 */
async function seedDataDir(dir: string, template: EmbeddedTemplate, log: Logger): Promise<boolean> {
  if ((await exists(dir)) && (await readdir(dir)).length > 0) return false;
  const folder = await ensureTemplate(template, log);
  if (!folder) return false;
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  const spare = spareOf(folder);
  const tookSpare = await rename(spare, dir).then(
    () => true,
    () => false, // none ready (another start took it, or a copy is under way), or another file system
  );
  if (tookSpare) {
    setTimeout(() => void makeSpare(folder, log), SPARE_DELAY_MS).unref();
    return true;
  }
  return copyInto(folder, dir).then(
    () => true,
    (err: unknown) => {
      log.warn({ err, template: folder }, 'the embedded database template could not be copied: this database is made from scratch');
      return false;
    },
  );
}

/** A new spare waits this long after a start took one: the start's own work comes first. */
const SPARE_DELAY_MS = 2000;
const spareOf = (folder: string) => `${folder}.spare`;

/** Copies the template to its spare (made once at install with the template, then after each start that took it). */
export async function makeSpare(folder: string, log: Logger): Promise<void> {
  const spare = spareOf(folder);
  try {
    if (await exists(spare)) return;
    await removeAbandonedStaging(path.dirname(folder));
    await copyInto(folder, spare);
  } catch (err) {
    // A spare only saves time: without one the next new database is copied from the template.
    log.debug({ err }, 'no spare embedded database made');
  }
}

/** Removes the staging folders of processes that died while copying (each names its process). */
async function removeAbandonedStaging(home: string): Promise<void> {
  for (const name of await readdir(home)) {
    const pid = /\.(\d+)-[0-9a-f]{8}\.tmp$/.exec(name)?.[1];
    if (pid && !isAlive(Number(pid))) await rm(path.join(home, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Copies a folder to `target` through a staging sibling, so that `target` appears whole or not at all. */
async function copyInto(from: string, target: string): Promise<void> {
  const staging = stagingFor(target);
  try {
    await copyTree(from, staging);
    await rename(staging, target);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Copies a folder of regular files, several at once, cloning where the file system shares blocks: node's fs.cp
 * copies a template's ~970 files one after another (~0.7 s here), this in a fraction of that.
 */
async function copyTree(from: string, to: string): Promise<void> {
  const entries = await readdir(from, { recursive: true, withFileTypes: true });
  const relative = (e: { parentPath: string; name: string }) => path.relative(from, path.join(e.parentPath, e.name));
  await mkdir(to, { recursive: true });
  for (const dir of entries.filter((e) => e.isDirectory())) await mkdir(path.join(to, relative(dir)), { recursive: true });
  const files = entries.filter((e) => e.isFile()).map(relative);
  await forEachConcurrently(files, 16, (file) => copyFile(path.join(from, file), path.join(to, file), constants.COPYFILE_FICLONE));
}
