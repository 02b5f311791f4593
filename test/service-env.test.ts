// `npm start` spells Kiln's service environment in package.json (a shell line cannot import it): keep the two alike.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MALLOC_TUNABLES, withServiceEnv } from '../scripts/service-env';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test("npm start runs services with scripts/service-env.ts's malloc tunables unless GLIBC_TUNABLES is set", async () => {
  const { scripts } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(scripts.start, new RegExp(`^GLIBC_TUNABLES=\\$\\{GLIBC_TUNABLES:-${MALLOC_TUNABLES.replaceAll('.', '\\.')}\\} node scripts/service\\.mjs `));
  assert.equal(withServiceEnv({}).GLIBC_TUNABLES, MALLOC_TUNABLES);
  assert.equal(withServiceEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES, 'glibc.malloc.arena_max=2');
});
