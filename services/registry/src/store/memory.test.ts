// The store conformance suite on the in-memory store (the Postgres run is test/registry-store.test.ts).
import { storeConformance } from './conformance';
import { MemoryStore } from './memory';

storeConformance('in-memory', async () => ({ store: new MemoryStore(), close: async () => {} }));
