import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { KilnError } from '@kiln/errors';
import { isRetryable, RETRY_BY_STATUS, statusNameOf, type StatusName } from './build-retry';

test('only what can succeed on another attempt is retried', () => {
  const retried = (Object.keys(RETRY_BY_STATUS) as StatusName[]).filter((s) => isRetryable({ status: s, callDeadlinePassed: false }));
  assert.deepEqual(retried.sort(), ['ABORTED', 'CANCELLED', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'UNAVAILABLE']);
});

test('INTERNAL (a builder bug) and UNKNOWN fail the version at once', () => {
  assert.equal(isRetryable({ status: 'INTERNAL', callDeadlinePassed: false }), false);
  assert.equal(isRetryable({ status: 'UNKNOWN', callDeadlinePassed: false }), false);
});

test('DEADLINE_EXCEEDED is retried unless the registry\'s own deadline on the whole build passed', () => {
  assert.equal(isRetryable({ status: 'DEADLINE_EXCEEDED', callDeadlinePassed: false }), true);
  assert.equal(isRetryable({ status: 'DEADLINE_EXCEEDED', callDeadlinePassed: true }), false);
  assert.equal(isRetryable({ status: 'UNAVAILABLE', callDeadlinePassed: true }), true);
});

test('every gRPC status has an entry in the table', () => {
  const names = Object.keys(grpc.status).filter((k) => Number.isNaN(Number(k)));
  assert.deepEqual(names.sort(), Object.keys(RETRY_BY_STATUS).sort());
});

test('the status of a gRPC error is named by its number, a Kiln error by its code, a database outage UNAVAILABLE, anything else UNKNOWN', () => {
  for (const [name, number] of Object.entries(grpc.status)) {
    if (typeof number === 'number') assert.equal(statusNameOf({ code: number, details: '' }), name);
  }
  assert.equal(statusNameOf(new KilnError('UNAVAILABLE', 'down')), 'UNAVAILABLE');
  assert.equal(statusNameOf(new TypeError('x is undefined')), 'UNKNOWN');
  assert.equal(statusNameOf(Object.assign(new Error('terminating connection'), { code: '57P01' })), 'UNAVAILABLE');
  assert.equal(statusNameOf(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })), 'UNAVAILABLE');
  assert.equal(statusNameOf(Object.assign(new Error('duplicate key'), { code: '23505' })), 'UNKNOWN');
  assert.equal(statusNameOf(undefined), 'UNKNOWN');
});
