// What the builder checks and cleans as it starts: image settings no build could succeed with are refused, and the
// temp files of killed image writes are removed from its OCI layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@kiln/config';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '@kiln/log';
import { checkImageSettings, startBuilder } from './index';

const images = (env: Record<string, string>) => loadConfig(env).images;

test('plain HTTP only to a loopback registry; a registry sink needs a registry', () => {
  assert.doesNotThrow(() => checkImageSettings(images({})));
  assert.doesNotThrow(() => checkImageSettings(images({ KILN_IMAGE_REGISTRY: '127.0.0.1:5000', KILN_IMAGE_REGISTRY_INSECURE: 'true' })));
  assert.doesNotThrow(() => checkImageSettings(images({ KILN_IMAGE_REGISTRY: 'registry.example.com' })));
  assert.throws(
    () => checkImageSettings(images({ KILN_IMAGE_REGISTRY: 'registry.example.com:5000', KILN_IMAGE_REGISTRY_INSECURE: 'true' })),
    { code: 'INVALID_ARGUMENT', message: /KILN_IMAGE_REGISTRY_INSECURE.*loopback registry, not registry.example.com:5000/ },
  );
  assert.throws(() => checkImageSettings(images({ KILN_IMAGE_SINK: 'registry' })), { code: 'INVALID_ARGUMENT', message: /KILN_IMAGE_REGISTRY/ });
});

test('a starting builder removes the temp files that builds killed mid-write left in its OCI layout', async () => {
  const data = await mkdtemp(path.join(os.tmpdir(), 'kiln-builder-start-'));
  try {
    const blobs = path.join(data, 'images', 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const left = path.join(blobs, `${'cd'.repeat(32)}.0123456789ab.tmp`);
    await writeFile(left, Buffer.alloc(1 << 20));
    const config = loadConfig({ KILN_DATA_DIR: data, KILN_BUILDER_LISTEN: '127.0.0.1:0' });
    const builder = await startBuilder(config, createLogger('test', 'silent'));
    try {
      const deadline = Date.now() + 5000;
      while ((await readdir(blobs)).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(await readdir(blobs), []);
    } finally {
      await builder.stop();
    }
  } finally {
    await rm(data, { recursive: true, force: true });
  }
});
