import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inferContract, localModelFiles } from '@kiln/contract';
import { KilnError } from '@kiln/errors';
import { contractFromMessage } from './contract';
import { kilnProto } from './index';
import type { InferContractResponse__Output } from '../generated/kiln/v1/InferContractResponse';
import type { Contract as ContractMessage } from '../generated/kiln/v1/Contract';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures');
const { InferContract } = kilnProto().kiln.v1.Inference.service;
/** Through the wire and back, as a client of InferContract reads it (proto-loader's output form). */
const overTheWire = (contract: ContractMessage) =>
  (InferContract.responseDeserialize(InferContract.responseSerialize({ contract })) as InferContractResponse__Output).contract;

for (const model of ['onnx/containers', 'onnx/all_dtypes', 'savedmodel/tf1_sparse_ragged', 'savedmodel/tf2_signatures', 'third-party/hydrosphere/spark_model']) {
  test(`${model}: a contract read back from the wire is the contract that was sent`, async () => {
    const { contract } = await inferContract(await localModelFiles(path.join(fixtures, model)));
    assert.ok(contract && contract.signatures.length > 0);
    assert.deepEqual(contractFromMessage(overTheWire(contract)), contract);
  });
}

test('a received contract missing what its type names is INTERNAL, naming the field', () => {
  const received = overTheWire({ source: 'onnx', signatures: [{ name: 's', inputs: [{ name: 'x', profile: 'DATA_PROFILE_UNSPECIFIED' }] }] });
  assert.throws(() => contractFromMessage(received), (err: KilnError) => err.code === 'INTERNAL' && err.location === 'contract.signatures[0].inputs[0]');
  assert.equal(contractFromMessage(null), null);
});
