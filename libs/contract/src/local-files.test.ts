// Tests of local ModelFiles: listing, positioned reads (cached blocks, exact bytes), errors, and no file handle left open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
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

test('a burst of reads shares one file handle, closed once reads stop', { skip: process.platform !== 'linux' }, async (t) => {
  const dir = tempModel();
  t.after(() => rmSync(dir, { recursive: true }));
  const file = path.join(dir, 'saved_model.pb');
  // Descriptors of this process open on the file.
  const openFds = () =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === file;
      } catch {
        return false; // the listing's own descriptor, gone by now
      }
    }).length;
  const f = await (await localModelFiles(dir)).open('saved_model.pb');
  const reads = await Promise.all(Array.from({ length: 200 }, (_, i) => f.read(i % 10, 3)));
  const whole = readFileSync(file);
  reads.forEach((got, i) => assert.deepEqual(got, whole.subarray(i % 10, (i % 10) + 3), `read ${i}`));
  assert.equal(openFds(), 1, 'one handle while reads come');
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(openFds(), 0, 'closed after the reads stopped');
});

test('small reads are served from a cached block, large ones read whole; both exact', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-local-'));
  t.after(() => rmSync(dir, { recursive: true }));
  const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
  writeFileSync(path.join(dir, 'blob.bin'), data);
  const f = await (await localModelFiles(dir)).open('blob.bin');
  for (const [offset, length] of [[0, 48], [40, 100], [65_530, 20], [70_000, 200_000], [299_990, 100], [300_000, 5]]) {
    assert.deepEqual(await f.read(offset, length), data.subarray(offset, offset + length), `${offset}+${length}`);
  }
});
