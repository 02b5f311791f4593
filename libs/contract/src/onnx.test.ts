// Tests of ONNX contract inference: initializers are not inputs, weights are never read, corrupt files are errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isKilnError } from '@kiln/errors';
import type { ModelFiles } from './source';
import { localModelFiles } from './local-files';
import { inferOnnxFile, onnxFormat } from './onnx';
import { bufferFile, CountingFile } from './wire';
import { corruptions, fuzz, memoryFiles } from './wire-testing';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = (name: string) => path.join(repoRoot, 'test/fixtures/onnx', name);
const mnist = path.resolve(repoRoot, '../shared/fixtures/hydrosphere/onnx_mnist');

/** Wraps ModelFiles to record which files are opened and how many bytes are read. */
function spy(files: ModelFiles) {
  const opened: string[] = [];
  const counters: CountingFile[] = [];
  const wrapped: ModelFiles = {
    list: () => files.list(),
    async open(p) {
      opened.push(p);
      const c = new CountingFile(await files.open(p));
      counters.push(c);
      return c;
    },
  };
  return { files: wrapped, opened, bytesRead: () => counters.reduce((n, c) => n + c.bytesRead, 0) };
}

test('detect: a .onnx file anywhere, nothing else', () => {
  assert.ok(onnxFormat.detect([{ path: 'models/net.ONNX', size: 10 }]));
  assert.ok(!onnxFormat.detect([{ path: 'saved_model.pb', size: 10 }, { path: 'onnx.txt', size: 1 }]));
});

test('mnist (CNTK export): one input, the initializers listed as inputs are left out', async () => {
  const s = spy(await localModelFiles(mnist));
  const { contract, metadata } = await onnxFormat.infer(s.files);
  const [sig] = contract.signatures;
  assert.equal(sig.name, 'CNTKGraph');
  assert.deepEqual(sig.inputs.map((f) => f.name), ['Input73']);
  assert.deepEqual(sig.outputs.map((f) => f.name), ['Plus422_Output_0']);
  assert.equal(metadata['onnx.producer_name'], 'CNTK');
  assert.ok(s.bytesRead() < 64 * 1024, `read ${s.bytesRead()} of ${readFileSync(path.join(mnist, 'mnist.onnx')).length} bytes`);
});

test('external data: weights.bin is never opened, and dense and sparse initializers are not inputs', async () => {
  const s = spy(await localModelFiles(fixture('external_data')));
  const { contract } = await onnxFormat.infer(s.files);
  assert.deepEqual(s.opened, ['model.onnx']);
  assert.deepEqual(contract.signatures[0].inputs.map((f) => f.name), ['X']);
  const init = await onnxFormat.infer(await localModelFiles(fixture('initializers')));
  assert.deepEqual(init.contract.signatures[0].inputs.map((f) => f.name), ['X']); // W, B dense; S sparse
});

test('metadata: IR, producer, domain, model version, every opset and metadata_props', async () => {
  const { metadata } = await onnxFormat.infer(await localModelFiles(fixture('initializers')));
  assert.deepEqual(metadata, {
    'onnx.ir_version': '7',
    'onnx.producer_name': 'kiln-fixtures',
    'onnx.producer_version': '1.2.3',
    'onnx.domain': 'dev.kiln.test',
    'onnx.model_version': '42',
    'onnx.opset.ai.onnx': '9',
    'onnx.opset.com.microsoft': '1',
    'onnx.meta.author': 'kiln',
    'onnx.meta.license': 'Apache-2.0',
    'onnx.meta.empty': '',
  });
});

test('a file that is not ONNX is an INVALID_ARGUMENT error naming the file', async () => {
  const files = memoryFiles({ 'model.onnx': Buffer.from('this is not a protobuf message at all') });
  await assert.rejects(onnxFormat.infer(files), (e) => isKilnError(e) && e.code === 'INVALID_ARGUMENT' && /model\.onnx/.test(e.message));
  await assert.rejects(onnxFormat.infer(memoryFiles({ 'model.onnx': Buffer.alloc(0) })), /no graph/);
});

test('fuzz: 300 truncated or mutated ONNX models each end in a contract or a KilnError', async () => {
  let total = 0;
  for (const [i, p] of [fixture('containers/model.onnx'), fixture('initializers/model.onnx'), path.join(mnist, 'mnist.onnx')].entries()) {
    const res = await fuzz(corruptions(readFileSync(p), 1000 + i, 100), (bytes) => inferOnnxFile(bufferFile('model.onnx', bytes)));
    assert.ok(res.rejected > 0, p);
    total += res.ok + res.rejected;
  }
  assert.equal(total, 300);
});
