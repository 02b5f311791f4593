// The registry's database, opened and migrated. An embedded one (no DATABASE_URL) starts as a copy of a template
// already at the registry's schema (libs/metadata's embedded.ts): migrations run and the build queue's tables made.
// The template's key is a digest of the migration files and pg-boss's schema plan, so any change to either makes a
// new template. Run as a script (the root package's postinstall), it makes the template and its spare copy ahead of
// the first start.
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KilnConfig } from '@kiln/config';
import { createLogger, type Logger } from '@kiln/log';
import { ensureTemplate, makeSpare, migrate, openDatabase, type Database, type EmbeddedTemplate } from '@kiln/metadata';
import { compareCodeUnits } from '@kiln/std';
import { buildQueueSchemaPlan, createBuildQueueSchema } from './builds';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../migrations');

export async function openRegistryDatabase(database: KilnConfig['database'], log: Logger): Promise<Database> {
  const template = database.url ? undefined : await registryTemplate(log);
  const db = await openDatabase({ ...database, template }, log);
  // A no-op on a database copied from the template (one query says so); the real work on any other.
  await migrate(db, MIGRATIONS_DIR, log);
  return db;
}

export async function registryTemplate(log: Logger): Promise<EmbeddedTemplate> {
  const digest = createHash('sha256');
  for (const file of (await readdir(MIGRATIONS_DIR)).sort(compareCodeUnits)) {
    digest.update(`${file}\n`).update(await readFile(path.join(MIGRATIONS_DIR, file))).update('\n');
  }
  digest.update(buildQueueSchemaPlan());
  return {
    key: digest.digest('hex').slice(0, 16),
    async prepare(db) {
      await migrate(db, MIGRATIONS_DIR, log);
      await createBuildQueueSchema(db.pool);
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const log = createLogger('registry', 'warn');
  const folder = await ensureTemplate(await registryTemplate(log), log);
  if (folder) await makeSpare(folder, log);
  process.stdout.write(folder ? `kiln: embedded database template ready in ${folder}\n` : 'kiln: no embedded database template; a first start makes its database from scratch\n');
}
