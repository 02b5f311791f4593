// The outage classifier on the shapes pg, the AWS SDK and Node give their errors (test/dependency-outage.test.ts
// makes the real ones): outages are recognised, everything else is left alone.
import assert from 'node:assert/strict';
import test from 'node:test';
import { asUnavailable, KilnError, unavailableReason } from './index';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

test('socket and DNS failures, Postgres going away and S3 being busy or failing are outages', () => {
  const outages: unknown[] = [
    withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    withCode('read ECONNRESET', 'ECONNRESET'),
    withCode('getaddrinfo EAI_AGAIN db', 'EAI_AGAIN'),
    Object.assign(new AggregateError([withCode('connect ECONNREFUSED ::1:9000', 'ECONNREFUSED')], ''), {}),
    withCode('terminating connection due to administrator command', '57P01'),
    withCode('the database system is starting up', '57P03'),
    withCode('connection failure', '08006'),
    new Error('Connection terminated unexpectedly'),
    new Error('Connection terminated due to connection timeout'),
    new Error('timeout exceeded when trying to connect'),
    new Error('Client has encountered a connection error and is not queryable'),
    Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }),
    Object.assign(new Error('UnknownError'), { name: 'Unknown', $metadata: { httpStatusCode: 502 } }),
    Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }),
    new Error('upload failed', { cause: withCode('socket hang up', 'ECONNRESET') }),
  ];
  for (const err of outages) assert.ok(unavailableReason(err), `not recognised: ${String(err)}`);
});

test('what a retry cannot cure is not an outage', () => {
  const others: unknown[] = [
    new TypeError('x is undefined'),
    withCode('duplicate key value violates unique constraint', '23505'),
    withCode('value "9223372036854775808" is out of range for type bigint', '22003'),
    withCode('no such file', 'ENOENT'),
    withCode('no space left on device', 'ENOSPC'),
    Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }),
    Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
    new KilnError('INVALID_ARGUMENT', 'bad'),
    undefined,
    'ECONNREFUSED',
  ];
  for (const err of others) assert.equal(unavailableReason(err), undefined, String(err));
});

test('asUnavailable names the dependency and keeps the cause; anything else is returned as it was', () => {
  const refused = withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED');
  const err = asUnavailable(refused, 'the database (Postgres)') as KilnError;
  assert.ok(err instanceof KilnError);
  assert.equal(err.code, 'UNAVAILABLE');
  assert.equal(err.message, 'the database (Postgres) is unavailable (connect ECONNREFUSED 127.0.0.1:5432); try again later');
  assert.equal(err.cause, refused);
  const bug = new TypeError('x is undefined');
  assert.equal(asUnavailable(bug, 'the database (Postgres)'), bug);
});
