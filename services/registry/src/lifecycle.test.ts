import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { awaitsBuild, canTransition, INITIAL_STATUS, isFinal, isVisible, statusesBefore, STATUSES, VISIBLE_STATUSES } from './lifecycle';

test('a version is built once: BUILDING ends RELEASED or FAILED, and every status but DELETED can be deleted', () => {
  const allowed = STATUSES.flatMap((from) => STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}->${to}`));
  assert.deepEqual(allowed, ['BUILDING->RELEASED', 'BUILDING->FAILED', 'BUILDING->DELETED', 'RELEASED->DELETED', 'FAILED->DELETED']);
});

test('nothing comes back: no status returns to BUILDING, none leaves DELETED, a final build is never rebuilt', () => {
  assert.deepEqual(statusesBefore('BUILDING'), []);
  for (const to of STATUSES) assert.equal(canTransition('DELETED', to), false);
  assert.equal(canTransition('RELEASED', 'FAILED'), false);
  assert.equal(canTransition('FAILED', 'RELEASED'), false);
  for (const s of STATUSES) assert.equal(canTransition(s, s), false, `${s} to itself`);
});

test('what is final, visible and built', () => {
  assert.equal(INITIAL_STATUS, 'BUILDING');
  assert.deepEqual(STATUSES.filter(isFinal), ['RELEASED', 'FAILED', 'DELETED']);
  assert.deepEqual(VISIBLE_STATUSES, ['BUILDING', 'RELEASED', 'FAILED']);
  assert.equal(isVisible('DELETED'), false);
  assert.deepEqual(STATUSES.filter(awaitsBuild), ['BUILDING']);
  assert.deepEqual(statusesBefore('DELETED'), ['BUILDING', 'RELEASED', 'FAILED']);
  assert.deepEqual(statusesBefore('FAILED'), ['BUILDING']);
});

test('the database allows exactly these statuses', async () => {
  const sql = await readFile(new URL('../migrations/20261126000000000_initial.sql', import.meta.url), 'utf8');
  const check = /status\s+text\s+NOT NULL CHECK \(status IN \(([^)]*)\)\)/.exec(sql);
  assert.ok(check, 'the status column\'s CHECK');
  assert.deepEqual(check[1].split(',').map((s) => s.trim().replace(/'/g, '')), STATUSES);
});
