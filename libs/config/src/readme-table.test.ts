// The README's configuration table is the one scripts/config-table.ts prints from ENV_SCHEMA: a setting added,
// renamed or redescribed without the README fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../../..');

test('README configuration table = scripts/config-table.ts output', () => {
  const printed = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/config-table.ts'], { cwd: root, encoding: 'utf8' }).trim();
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('| Variable | Default | Meaning |');
  assert.ok(start >= 0, 'README has the table');
  const table = readme.slice(start, readme.indexOf('\n\n', start)).trim();
  assert.equal(table, printed, 'regenerate the table: npx tsx scripts/config-table.ts');
});
