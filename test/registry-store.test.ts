// The store conformance suite (services/registry/src/store/conformance.ts) on a real Postgres: the in-memory store
// the GC's unit tests use behaves as this one does. Then the migrations that change existing rows, each run on rows
// made with the schema before it.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@kiln/log';
import { migrate, openDatabase, type Database } from '@kiln/metadata';
import { MIGRATIONS_DIR } from '../services/registry/src/index';
import { storeConformance } from '../services/registry/src/store/conformance';
import { PostgresStore } from '../services/registry/src/store/postgres';
import { freshDatabase, type TestDatabase } from './helpers/test-config';

const log = createLogger('test', 'silent');

storeConformance('Postgres', async () => {
  const database = await freshDatabase();
  const db = await openDatabase({ url: database.url, embeddedDir: '', poolSize: 4 }, log);
  await migrate(db, MIGRATIONS_DIR, log);
  return {
    store: new PostgresStore(db.pool),
    async close() {
      await db.close();
      await database.drop();
    },
  };
});

/** A database migrated up to (not including) the migration whose file name starts with `upTo`. */
async function databaseBefore(upTo: string): Promise<{ database: TestDatabase; db: Database }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-migrations-'));
  try {
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f < upTo);
    assert.ok(files.length && files.length < (await readdir(MIGRATIONS_DIR)).length, `no migration before ${upTo}, or none from it`);
    for (const f of files) await cp(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
    const database = await freshDatabase();
    const db = await openDatabase({ url: database.url, embeddedDir: '', poolSize: 2 }, log);
    await migrate(db, dir, log);
    return { database, db };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('the model namespaces migration', () => {
  let database: TestDatabase;
  let db: Database;
  before(async () => {
    ({ database, db } = await databaseBefore('20261204230100000_model_namespaces'));
    // Rows as the registry before namespaces wrote them: names without a slash, a released version with its image.
    await db.pool.query(`
      INSERT INTO models (name, latest_version) VALUES ('fraud', 2), ('iris', 1);
      INSERT INTO model_versions (model, version, status, total_size, file_count, image_reference, image_digest)
        VALUES ('fraud', 1, 'RELEASED', 3, 1, 'reg:5000/kiln/fraud:1', 'sha256:${'1'.repeat(64)}'),
               ('fraud', 2, 'BUILDING', 3, 1, '', ''),
               ('iris', 1, 'FAILED', 3, 1, '', '');
      INSERT INTO version_files (model, version, path, size, sha256)
        VALUES ('fraud', 1, 'm.bin', 3, 'a'), ('fraud', 2, 'm.bin', 3, 'b'), ('iris', 1, 'm.bin', 3, 'c');
      INSERT INTO build_logs (model, version, number, line) VALUES ('fraud', 1, 1, 'built');`);
    await migrate(db, MIGRATIONS_DIR, log);
  });
  after(async () => {
    await db?.close();
    await database?.drop();
  });

  it('keeps every existing model under its name, in the default namespace, its versions, files, logs and images as they were', async () => {
    const store = new PostgresStore(db.pool);
    const released = await store.getVersion('fraud', 1);
    assert.deepEqual(
      [released?.status, released?.imageReference, released?.files.map((f) => f.sha256)],
      ['RELEASED', 'reg:5000/kiln/fraud:1', ['a']],
      'an image built before namespaces keeps its stored reference',
    );
    assert.equal((await store.getVersion('fraud', 0))?.version, 2);
    assert.deepEqual(await store.logLinesAfter('fraud', 1, 0), [{ number: 1, line: 'built' }]);
    const listed = await store.listModels({ pageSize: 10, namespace: 'default' });
    assert.deepEqual(listed.map((m) => [m.name, m.latestVersion, m.versionCount]), [['fraud', 2, 2], ['iris', 1, 1]]);
    assert.deepEqual(await store.listModels({ pageSize: 10, namespace: 'team' }), []);
  });

  it('then takes a namespaced model beside them, and an old model\'s next version continues its numbers', async () => {
    const store = new PostgresStore(db.pool);
    const next = { files: [], manifest: '', labels: {}, metadata: {}, contract: null, runtime: '' };
    assert.equal((await store.inTransaction((tx) => tx.insertVersion({ ...next, model: 'team/fraud' }))).version, 1);
    assert.equal((await store.inTransaction((tx) => tx.insertVersion({ ...next, model: 'fraud' }))).version, 3);
    assert.deepEqual((await store.listModels({ pageSize: 10, namespace: 'team' })).map((m) => m.name), ['team/fraud']);
    assert.deepEqual((await store.listModels({ pageSize: 10, namespace: 'default' })).map((m) => m.name), ['fraud', 'iris']);
    const { rows } = await db.pool.query('SELECT name, namespace FROM models ORDER BY name COLLATE "C"');
    assert.deepEqual(rows, [{ name: 'fraud', namespace: 'default' }, { name: 'iris', namespace: 'default' }, { name: 'team/fraud', namespace: 'team' }]);
  });
});
