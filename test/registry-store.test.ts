// The store conformance suite (services/registry/src/store/conformance.ts) on a real Postgres: the in-memory store
// the GC's unit tests use behaves as this one does.
import { createLogger } from '@kiln/log';
import { migrate, openDatabase } from '@kiln/metadata';
import { MIGRATIONS_DIR } from '../services/registry/src/index';
import { storeConformance } from '../services/registry/src/store/conformance';
import { PostgresStore } from '../services/registry/src/store/postgres';
import { freshDatabase } from './helpers/test-config';

storeConformance('Postgres', async () => {
  const database = await freshDatabase();
  const log = createLogger('test', 'silent');
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
