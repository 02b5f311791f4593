// The blob store conformance suite against the local-directory driver, each test in a fresh temp folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobStoreConformance } from './conformance';
import { LocalBlobStore } from './local';

blobStoreConformance('local directory', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kiln-blobstore-'));
  return {
    store: new LocalBlobStore({ root }),
    dispose: () => rm(root, { recursive: true, force: true }),
  };
});
