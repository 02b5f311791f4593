// How services are launched: `npm start`'s environment (package.json spells scripts/service-env.ts's, since a shell
// line cannot import it) and scripts/service.mjs's bundles, which must run from outside the repository too.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MALLOC_TUNABLES, withServiceEnv } from '../scripts/service-env';
import { execute, startKilnProcess } from './helpers/kiln-process';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test("npm start runs services with scripts/service-env.ts's malloc tunables unless GLIBC_TUNABLES is set", async () => {
  const { scripts } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(scripts.start, new RegExp(`^GLIBC_TUNABLES=\\$\\{GLIBC_TUNABLES:-${MALLOC_TUNABLES.replaceAll('.', '\\.')}\\} node scripts/service\\.mjs `));
  assert.equal(withServiceEnv({}).GLIBC_TUNABLES, MALLOC_TUNABLES);
  assert.equal(withServiceEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES, 'glibc.malloc.arena_max=2');
});

test('a service bundled into a folder outside the repository (KILN_BUILD_DIR) runs, and its bundle is removed', async () => {
  const outside = await mkdtemp(path.join(os.tmpdir(), 'kiln-build-dir-'));
  const buildDir = path.join(outside, 'bundles'); // service.mjs makes it
  try {
    const kiln = await startKilnProcess({
      script: 'services/inference/src/main.ts',
      services: ['kiln.v1.Inference'],
      env: { KILN_BUILD_DIR: buildDir },
    });
    try {
      const environ = await readFile(`/proc/${kiln.pid}/environ`, 'utf8');
      assert.ok(environ.split('\0').includes(`GLIBC_TUNABLES=${MALLOC_TUNABLES}`), 'started as npm start starts services');
    } finally {
      await kiln.stop();
    }
    assert.deepEqual(await readdir(buildDir), []);
  } finally {
    await rm(outside, { recursive: true, force: true });
  }
});

test('a listen address already in use stops the start with one line naming the setting, exit 1, no stack', async () => {
  const busy = net.createServer().listen(0, '127.0.0.1');
  await once(busy, 'listening');
  const taken = `127.0.0.1:${(busy.address() as net.AddressInfo).port}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kiln-busy-'));
  try {
    const run = await execute('node', ['scripts/service.mjs', 'services/inference/src/main.ts'], {
      ...process.env, KILN_DATA_DIR: dataDir, KILN_INFERENCE_LISTEN: taken, KILN_LOG_LEVEL: 'info',
    });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const fatal = `${run.stdout}${run.stderr}`.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((l) => l.level === 60);
    assert.equal(fatal?.msg, `start failed: KILN_INFERENCE_LISTEN is ${taken}, already in use: stop what listens there or choose another address`);
    assert.equal(fatal.err, undefined, 'no error object, so no stack');
  } finally {
    busy.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
