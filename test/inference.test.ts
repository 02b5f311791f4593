// End-to-end tests of the Inference service over gRPC: contracts from a local path, from a stored version's blobs in
// MinIO (read with range GETs, only the metadata), and from a streamed archive; corrupt models name file and offset.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { inferenceClient, registryClient, type InferenceClient, type RegistryClient } from '@kiln/api';
import type { InferContractResponse__Output } from '@kiln/api/generated/kiln/v1/InferContractResponse';
import type { InferContractRequest } from '@kiln/api/generated/kiln/v1/InferContractRequest';
import { openBlobStore } from '@kiln/blobstore/open';
import { tarOf } from '@kiln/archive/testing';
import { createLogger } from '@kiln/log';
import { inferenceHandlers } from '../services/inference/src/service';
import { startInference } from '../services/inference/src/index';
import { startRegistry } from '../services/registry/src/index';
import { startServer } from '@kiln/api/server';
import { kilnProto } from '@kiln/api';
import { configFrom, realServersEnv } from './helpers/test-config';
import { assertGrpcError, uploadStream } from './helpers/grpc';

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures/third-party');
const MiB = 1024 * 1024;

/** A valid ONNX model whose one initializer holds `weightBytes` of raw data inline (written with protobufjs from the
 * ONNX field numbers): the contract is tiny, the file is not. */
function bigOnnx(weightBytes: number): Buffer {
  const root = protobuf.Root.fromJSON({
    nested: {
      Dim: { fields: { dimValue: { id: 1, type: 'int64' }, dimParam: { id: 2, type: 'string' } } },
      Shape: { fields: { dim: { id: 1, type: 'Dim', rule: 'repeated' } } },
      TensorTypeP: { fields: { elemType: { id: 1, type: 'int32' }, shape: { id: 2, type: 'Shape' } } },
      TypeP: { fields: { tensorType: { id: 1, type: 'TensorTypeP' } } },
      ValueInfo: { fields: { name: { id: 1, type: 'string' }, type: { id: 2, type: 'TypeP' } } },
      Tensor: { fields: { dims: { id: 1, type: 'int64', rule: 'repeated' }, dataType: { id: 2, type: 'int32' }, name: { id: 8, type: 'string' }, rawData: { id: 9, type: 'bytes' } } },
      Node: { fields: { input: { id: 1, type: 'string', rule: 'repeated' }, output: { id: 2, type: 'string', rule: 'repeated' }, opType: { id: 4, type: 'string' } } },
      Graph: { fields: { node: { id: 1, type: 'Node', rule: 'repeated' }, name: { id: 2, type: 'string' }, initializer: { id: 5, type: 'Tensor', rule: 'repeated' }, input: { id: 11, type: 'ValueInfo', rule: 'repeated' }, output: { id: 12, type: 'ValueInfo', rule: 'repeated' } } },
      OpSet: { fields: { domain: { id: 1, type: 'string' }, version: { id: 2, type: 'int64' } } },
      Model: { fields: { irVersion: { id: 1, type: 'int64' }, producerName: { id: 2, type: 'string' }, graph: { id: 7, type: 'Graph' }, opsetImport: { id: 8, type: 'OpSet', rule: 'repeated' } } },
    },
  });
  const Model = root.lookupType('Model');
  const n = weightBytes / 4;
  const vi = (name: string, dims: Array<{ dimValue?: number; dimParam?: string }>) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims } } } });
  return Buffer.from(Model.encode(Model.fromObject({
    irVersion: 8,
    producerName: 'kiln-test',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'big',
      node: [{ input: ['x', 'w'], output: ['y'], opType: 'Mul' }],
      initializer: [{ dims: [n], dataType: 1, name: 'w', rawData: Buffer.alloc(weightBytes, 1) }],
      input: [vi('x', [{ dimParam: 'batch' }, { dimValue: n }]), vi('w', [{ dimValue: n }])],
      output: [vi('y', [{ dimParam: 'batch' }, { dimValue: n }])],
    },
  })).finish());
}

describe('inference service on real MinIO', () => {
  let inference: InferenceClient;
  let registry: RegistryClient;
  let counted: InferenceClient;
  let rangeBytes = 0;
  let stop: () => Promise<void>;

  before(async () => {
    const env = await realServersEnv();
    const log = createLogger('test', env.KILN_LOG_LEVEL);
    // Path reads are allowed under the third-party fixtures only (KILN_INFERENCE_PATH_ROOTS; none by default).
    const inf = await startInference(configFrom({ ...env, KILN_INFERENCE_PATH_ROOTS: FIXTURES }), log);
    const config = configFrom({ ...env, KILN_INFERENCE_ADDRESS: inf.address });
    const reg = await startRegistry(config, log);
    // A second inference server whose blob reads are counted, to prove only metadata is read from S3.
    const blobs = await openBlobStore(config.blobs);
    const countingServer = await startServer(
      [{
        name: 'kiln.v1.Inference',
        definition: kilnProto().kiln.v1.Inference.service,
        implementation: inferenceHandlers({
          blobs: { readRange: (d, o, l) => ((rangeBytes += l), blobs.readRange(d, o, l)) },
          registry: () => registryClient(reg.address),
          limits: { maxFileBytes: 1 << 30, maxTotalBytes: 1 << 30, maxFiles: 100 },
          log,
        }),
      }],
      '127.0.0.1:0',
      log,
    );
    inference = inferenceClient(inf.address);
    counted = inferenceClient(countingServer.address);
    registry = registryClient(reg.address);
    stop = async () => {
      inference.close();
      counted.close();
      registry.close();
      await countingServer.shutdown(1000);
      await reg.stop();
      await inf.stop();
    };
  });
  after(() => stop());

  const infer = (client: InferenceClient, req: InferContractRequest) =>
    new Promise<InferContractResponse__Output>((resolve, reject) => client.InferContract(req, (e, r) => (e ? reject(e) : resolve(r!))));

  it('infers a SavedModel from a path the service can read', async () => {
    const res = await infer(inference, { path: path.join(FIXTURES, 'tf-serving/saved_model_half_plus_two_cpu/00000123') });
    assert.equal(res.format, 'savedmodel');
    assert.ok(res.contract?.signatures.some((s) => s.name === 'serving_default' && s.method === 'tensorflow/serving/predict'));
  });

  it("infers a stored version's ONNX contract from MinIO reading only metadata (range reads, < 1 MiB of 48 MiB)", async () => {
    const onnx = bigOnnx(48 * MiB);
    const v = await uploadStream(registry, { model: 'big-onnx', fileName: 'model.onnx' }, onnx);
    assert.equal(v.contract?.signatures[0].inputs.map((f) => f.name).join(), 'x', 'the initializer w is not an input');
    rangeBytes = 0;
    const res = await infer(counted, { modelVersion: { model: 'big-onnx', version: v.version } });
    assert.deepEqual(res.contract, v.contract);
    assert.equal(res.metadata['onnx.producer_name'], 'kiln-test');
    assert.ok(rangeBytes > 0 && rangeBytes < MiB, `read ${rangeBytes} bytes of ${onnx.length}`);
  });

  it('infers the contract of a streamed archive, merged with its manifest', async () => {
    const onnx = await readFile(path.join(FIXTURES, 'hydrosphere/onnx_mnist/mnist.onnx'));
    const manifest = 'kind: Model\nname: mnist\ncontract:\n  inputs:\n    Input73:\n      shape: [1, 1, 28, 28]\n      type: float32\n      profile: image\n  outputs:\n    Plus422_Output_0:\n      shape: [1, 10]\n      type: float32\n';
    const archive = await tarOf([{ name: 'mnist.onnx', content: onnx }]);
    const res = await new Promise<InferContractResponse__Output>((resolve, reject) => {
      const call = inference.InferContractFromUpload((e, r) => (e ? reject(e) : resolve(r!)));
      call.write({ header: { manifest } });
      for (let i = 0; i < archive.length; i += 4096) call.write({ chunk: archive.subarray(i, i + 4096) });
      call.end();
    });
    assert.equal(res.format, 'onnx');
    assert.equal(res.contract?.signatures[0].inputs[0].profile, 'DATA_PROFILE_IMAGE');
  });

  it('a streamed archive cut short of its header\'s expected_size is INVALID_ARGUMENT, not inferred', async () => {
    const archive = await tarOf([{ name: 'mnist.onnx', content: await readFile(path.join(FIXTURES, 'hydrosphere/onnx_mnist/mnist.onnx')) }]);
    const sent = new Promise<InferContractResponse__Output>((resolve, reject) => {
      const call = inference.InferContractFromUpload((e, r) => (e ? reject(e) : resolve(r!)));
      call.write({ header: { expectedSize: archive.length + 512 } });
      call.write({ chunk: archive });
      call.end();
    });
    await assertGrpcError(sent, 'INVALID_ARGUMENT', new RegExp(`ended after ${archive.length} bytes`));
  });

  it('a corrupt ONNX file is INVALID_ARGUMENT naming the file and the offset', async () => {
    const onnx = await readFile(path.join(FIXTURES, 'hydrosphere/onnx_mnist/mnist.onnx'));
    const broken = Buffer.from(onnx.subarray(0, 400));
    await assertGrpcError(uploadStream(registry, { model: 'broken-onnx', fileName: 'mnist.onnx' }, broken), 'INVALID_ARGUMENT', /mnist\.onnx@\d+/);
  });

  it('a missing path under the allowed folders is NOT_FOUND, one outside them INVALID_ARGUMENT; no source is INVALID_ARGUMENT', async () => {
    const missing = path.join(FIXTURES, 'no/such/model');
    await assertGrpcError(infer(inference, { path: missing }), 'NOT_FOUND', /no\/such\/model/);
    await assertGrpcError(infer(inference, { path: '/no/such/model' }), 'INVALID_ARGUMENT', /outside the folders/);
    await assertGrpcError(infer(inference, { path: '/etc' }), 'INVALID_ARGUMENT', /outside the folders/);
    await assertGrpcError(infer(inference, {}), 'INVALID_ARGUMENT', /source/);
  });
});
