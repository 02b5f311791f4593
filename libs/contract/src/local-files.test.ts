// Tests of local ModelFiles: listing, positioned reads, errors, and no file handle left open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isKilnError } from '@kiln/errors';
import { localModelFiles } from './local-files';

function tempModel(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-local-files-'));
  mkdirSync(path.join(dir, 'variables'));
  writeFileSync(path.join(dir, 'saved_model.pb'), Buffer.from('0123456789'));
  writeFileSync(path.join(dir, 'variables', 'variables.index'), Buffer.from('abc'));
  return dir;
}

test('a directory lists every file by sorted relative path with its size', async (t) => {
  const dir = tempModel();
  t.after(() => rmSync(dir, { recursive: true }));
  const files = await localModelFiles(dir);
  assert.deepEqual(await files.list(), [{ path: 'saved_model.pb', size: 10 }, { path: 'variables/variables.index', size: 3 }]);
  const f = await files.open('saved_model.pb');
  assert.equal(f.size, 10);
  assert.equal((await f.read(3, 4)).toString(), '3456');
  assert.equal((await f.read(8, 100)).toString(), '89'); // short only at the end
  assert.equal((await f.read(20, 5)).length, 0);
});

test('a single file is a model of one file', async (t) => {
  const dir = tempModel();
  t.after(() => rmSync(dir, { recursive: true }));
  const files = await localModelFiles(path.join(dir, 'saved_model.pb'));
  assert.deepEqual(await files.list(), [{ path: 'saved_model.pb', size: 10 }]);
});

test('missing paths are NOT_FOUND', async (t) => {
  const dir = tempModel();
  t.after(() => rmSync(dir, { recursive: true }));
  await assert.rejects(localModelFiles(path.join(dir, 'nope')), (e) => isKilnError(e) && e.code === 'NOT_FOUND');
  const files = await localModelFiles(dir);
  await assert.rejects(files.open('nope.pb'), (e) => isKilnError(e) && e.code === 'NOT_FOUND');
});

test('reads leave no file handle open', { skip: process.platform !== 'linux' }, async (t) => {
  const dir = tempModel();
  t.after(() => rmSync(dir, { recursive: true }));
  const before = readdirSync('/proc/self/fd').length;
  const f = await (await localModelFiles(dir)).open('saved_model.pb');
  await Promise.all(Array.from({ length: 200 }, (_, i) => f.read(i % 10, 3)));
  assert.equal(readdirSync('/proc/self/fd').length, before);
});
