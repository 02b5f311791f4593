// The google.rpc.Status detail of a failed call, read back from a real call's grpc-status-details-bin trailer.
import assert from 'node:assert/strict';
import test from 'node:test';
import { pino } from 'pino';
import { invalidArgument } from '@kiln/errors';
import { grpc, inferenceClient, kilnProto } from './index';
import { startServer } from './server';
import type { InferenceImplementation } from './handlers';
import { decodeStatusDetails, encodeStatusDetails, statusDetailsOf } from './status-details';

test('status details round-trip: code, message and BadRequest field violations', () => {
  const bytes = encodeStatusDetails(3, 'inputs[2].shape: rank 2 expected', [{ field: 'inputs[2].shape', description: 'rank 2 expected' }]);
  assert.deepEqual(decodeStatusDetails(bytes), {
    code: 3,
    message: 'inputs[2].shape: rank 2 expected',
    fieldViolations: [{ field: 'inputs[2].shape', description: 'rank 2 expected' }],
  });
});

test('a KilnError with a location reaches the client as a BadRequest field violation in grpc-status-details-bin, and in the message', async (t) => {
  const server = await startServer([{
    name: 'kiln.v1.Inference',
    definition: kilnProto().kiln.v1.Inference.service,
    implementation: {
      InferContract: async () => { throw invalidArgument('rank 2 expected, got 3', 'contract.inputs[2].shape'); },
      InferContractFromUpload: async () => { throw new Error('not called'); },
    } satisfies InferenceImplementation,
  }], '127.0.0.1:0', pino({ level: 'silent' }));
  const client = inferenceClient(server.address);
  t.after(async () => {
    client.close();
    await server.shutdown(1000);
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
