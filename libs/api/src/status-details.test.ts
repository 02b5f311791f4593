// The google.rpc.Status detail of a failed call, read back from a real call's grpc-status-details-bin trailer.
import assert from 'node:assert/strict';
import test from 'node:test';
import { pino } from 'pino';
import { invalidArgument } from '@kiln/errors';
import { grpc, inferenceClient, kilnProto, MAX_STATUS_LOCATION_BYTES, MAX_STATUS_MESSAGE_BYTES } from './index';
import { startServer } from './server';
import type { InferenceImplementation } from './handlers';
import { decodeStatusDetails, encodeStatusDetails, STATUS_DETAILS_KEY, statusDetailsOf } from './status-details';

/** A client of an inference server (on a free port) with this implementation, both closed after the test. */
async function inferenceServing(t: test.TestContext, implementation: InferenceImplementation) {
  const server = await startServer(
    [{ name: 'kiln.v1.Inference', definition: kilnProto().kiln.v1.Inference.service, implementation }],
    '127.0.0.1:0',
    pino({ level: 'silent' }),
  );
  const client = inferenceClient(server.address);
  t.after(async () => {
    client.close();
    await server.shutdown(1000);
  });
  return client;
}

test('status details round-trip: code, message and BadRequest field violations', () => {
  const bytes = encodeStatusDetails(3, 'inputs[2].shape: rank 2 expected', [{ field: 'inputs[2].shape', description: 'rank 2 expected' }]);
  assert.deepEqual(decodeStatusDetails(bytes), {
    code: 3,
    message: 'inputs[2].shape: rank 2 expected',
    fieldViolations: [{ field: 'inputs[2].shape', description: 'rank 2 expected' }],
  });
});

test('a KilnError with a location reaches the client as a BadRequest field violation in grpc-status-details-bin, and in the message', async (t) => {
  const client = await inferenceServing(t, {
    InferContract: async () => { throw invalidArgument('rank 2 expected, got 3', 'contract.inputs[2].shape'); },
    InferContractFromUpload: async () => { throw new Error('not called'); },
  });
  const err = await new Promise<grpc.ServiceError>((resolve, reject) =>
    client.InferContract({ path: '/x' }, (e) => (e ? resolve(e) : reject(new Error('the call succeeded')))));
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(err.details, 'contract.inputs[2].shape: rank 2 expected, got 3');
  assert.deepEqual(statusDetailsOf(err), {
    code: grpc.status.INVALID_ARGUMENT,
    message: 'contract.inputs[2].shape: rank 2 expected, got 3',
    fieldViolations: [{ field: 'contract.inputs[2].shape', description: 'rank 2 expected, got 3' }],
  });
});

test('a status that repeats 128 KiB of what the caller sent is capped: it arrives at once with small trailers, and the channel keeps working', async (t) => {
  const huge = 'a'.repeat(128 * 1024);
  const client = await inferenceServing(t, {
    // A message and a location that each repeat the request whole (a handler's bug, or a value not yet validated).
    InferContract: async (request) => {
      if (request.path === 'fine') throw invalidArgument('fine', 'path');
      throw invalidArgument(`path ${JSON.stringify(request.path)} is not valid: give a folder`, `paths.${request.path}`);
    },
    InferContractFromUpload: async () => { throw new Error(`internal: ${huge}`); },
  });
  const call = (path: string) => new Promise<grpc.ServiceError>((resolve, reject) =>
    client.InferContract({ path }, { deadline: Date.now() + 5000 }, (e) => (e ? resolve(e) : reject(new Error('the call succeeded')))));
  const started = Date.now();
  const err = await call(huge);
  assert.ok(Date.now() - started < 1000, `answered in ${Date.now() - started} ms`);
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.details);
  assert.ok(Buffer.byteLength(err.details) <= MAX_STATUS_MESSAGE_BYTES);
  assert.match(err.details, /^paths\.aaa.*bytes left out.*aaa" is not valid: give a folder$/);
  const details = statusDetailsOf(err)!;
  assert.ok(Buffer.byteLength(details.fieldViolations[0].field) <= MAX_STATUS_LOCATION_BYTES);
  assert.match(details.fieldViolations[0].description, /is not valid: give a folder$/);
  const trailers = err.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer;
  assert.ok(trailers.length + Buffer.byteLength(err.details) < 8 * 1024, 'under the 8 KiB of metadata grpc core clients accept');
  // The same channel still answers, and an INTERNAL error's message is capped too.
  assert.equal((await call('fine')).details, 'path: fine');
  const internal = await new Promise<grpc.ServiceError>((resolve, reject) =>
    client.InferContractFromUpload((e) => (e ? resolve(e) : reject(new Error('the call succeeded')))).end());
  assert.equal(internal.code, grpc.status.INTERNAL);
  assert.ok(Buffer.byteLength(internal.details) <= MAX_STATUS_MESSAGE_BYTES);
});
