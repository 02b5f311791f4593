// Tests of ONNX contract inference: initializers are not inputs, weights are never read, corrupt files are errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isKilnError } from '@kiln/errors';
import type { ModelFiles, RandomAccessFile } from './source';
import { localModelFiles } from './local-files';
import { inferOnnxFile, onnxFormat } from './onnx';
import { bufferFile, CountingFile } from './wire';
import { corruptions, fuzz, memoryFiles, partsFile, syntheticOnnx, type SyntheticOnnx } from './wire-testing';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = (name: string) => path.join(repoRoot, 'test/fixtures/onnx', name);
const mnist = path.resolve(repoRoot, 'test/fixtures/third-party/hydrosphere/onnx_mnist');

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

test('external data: weights.bin (the weights, over 50x model.onnx) is never opened, and dense and sparse initializers are not inputs', async () => {
  const size = (f: string) => statSync(path.join(fixture('external_data'), f)).size;
  assert.ok(size('weights.bin') > 50 * size('model.onnx'), `weights.bin ${size('weights.bin')}, model.onnx ${size('model.onnx')} bytes`);
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

test('fuzz: 100 truncated or mutated models whose names are read after the hop each end in a contract or a KilnError', async () => {
  // Names after float_data and long names: the pending-name reads (concurrent) meet the corruption.
  const init = Array.from({ length: 20 }, (_, i) => ({ name: `${'n'.repeat(60)}${i}`, dims: [64, 64], floatData: i % 2 === 0 }));
  const model = { inputs: ['X', ...init.map((t) => t.name)], outputs: ['Y'], initializers: init };
  const f = partsFile('model.onnx', syntheticOnnx(model));
  const data = await f.read(0, f.size);
  assert.deepEqual((await inferOnnxFile(bufferFile('model.onnx', data))).contract.signatures[0].inputs.map((x) => x.name), ['X']);
  const res = await fuzz(corruptions(data, 7, 100), (bytes) => inferOnnxFile(bufferFile('model.onnx', bytes)));
  assert.ok(res.rejected > 0 && res.ok > 0, JSON.stringify(res));
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

test('opaque types: the field is kept with an unspecified type and a note in the metadata, not an error', async () => {
  const { contract, metadata } = await onnxFormat.infer(await localModelFiles(fixture('opaque')));
  const [sig] = contract.signatures;
  assert.deepEqual(sig.inputs.map((f) => [f.name, f.type]), [['blob', 'tensor'], ['x', 'tensor']]);
  assert.deepEqual(sig.inputs[0].type === 'tensor' && sig.inputs[0].tensor, { dtype: 'DATA_TYPE_UNSPECIFIED', shape: null });
  assert.deepEqual(sig.outputs[0].type === 'sequence' && sig.outputs[0].sequence.elementType, { type: 'tensor', tensor: { dtype: 'DATA_TYPE_UNSPECIFIED', shape: null } });
  assert.match(metadata['onnx.note.input.blob'], /opaque type com\.example\.Blob has no contract equivalent/);
  assert.match(metadata['onnx.note.output.blobs'], /com\.example\.Blob/);
  assert.equal(metadata['onnx.note.input.x'], undefined);
});

/** Infers a synthetic model's contract over a file that counts bytes, reads and reads in flight. */
async function inferSynthetic(m: SyntheticOnnx) {
  const inner = partsFile('model.onnx', syntheticOnnx(m));
  let inFlight = 0;
  let maxInFlight = 0;
  const file = new CountingFile({
    path: inner.path,
    size: inner.size,
    async read(offset, length) {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setImmediate(r)); // as a range request would, let other reads start meanwhile
      try {
        return await inner.read(offset, length);
      } finally {
        inFlight--;
      }
    },
  } satisfies RandomAccessFile);
  const { contract } = await inferOnnxFile(file);
  return { inputs: contract.signatures[0].inputs.map((f) => f.name), bytesRead: file.bytesRead, reads: file.reads, maxInFlight, size: inner.size };
}

const weights = (n: number, dims: number[], extra: Partial<SyntheticOnnx['initializers'][0]> = {}) =>
  Array.from({ length: n }, (_, i) => ({ name: `W${i}`, dims, ...extra }));

for (const [n, dims] of [[1000, [128, 128]], [10000, [32, 32]]] as const) {
  test(`${n} initializers of ${dims[0] * dims[1] * 4} bytes: under 1 MiB read, about one small read per initializer`, async () => {
    const r = await inferSynthetic({ inputs: ['X'], outputs: ['Y'], initializers: weights(n, [...dims]) });
    assert.deepEqual(r.inputs, ['X']);
    assert.ok(r.bytesRead < 1024 * 1024, `read ${r.bytesRead} of ${r.size} bytes`);
    assert.ok(r.bytesRead < 128 * n, `read ${r.bytesRead} bytes for ${n} initializers`);
    assert.ok(r.reads <= n + 10, `${r.reads} reads`);
  });
}

test('small adjacent initializers are read in a few coalesced reads', async () => {
  const r = await inferSynthetic({ inputs: ['X'], outputs: ['Y'], initializers: weights(2000, [4]) });
  assert.deepEqual(r.inputs, ['X']);
  assert.ok(r.reads < 20, `${r.reads} reads`);
});

test('initializers listed as inputs are left out, whether their name comes before or after their data', async () => {
  for (const floatData of [false, true]) {
    const init = weights(50, [64, 64], { floatData });
    const r = await inferSynthetic({ inputs: ['X', 'W7', 'W49', 'W0'], outputs: ['Y'], initializers: init });
    assert.deepEqual(r.inputs, ['X'], `floatData ${floatData}`);
  }
});

test('names after the data are read concurrently (bounded), and only while an input may still be an initializer', async () => {
  // Every name is after its data, so none is seen while hopping: each needs one more read, done 16 at a time.
  const all = await inferSynthetic({ inputs: ['X'], outputs: ['Y'], initializers: weights(200, [64, 64], { floatData: true }) });
  assert.deepEqual(all.inputs, ['X']);
  assert.ok(all.maxInFlight > 1 && all.maxInFlight <= 16, `${all.maxInFlight} reads in flight`);
  assert.ok(all.bytesRead < 200 * 200, `read ${all.bytesRead} bytes`);
  // The only input is W0, found first: the other names are not read.
  const one = await inferSynthetic({ inputs: ['W0'], outputs: ['Y'], initializers: weights(200, [64, 64], { floatData: true }) });
  assert.deepEqual(one.inputs, []);
  assert.ok(one.reads < all.reads - 150, `${one.reads} reads, ${all.reads} when all names are needed`);
  // No input at all: no initializer name is needed.
  const none = await inferSynthetic({ inputs: [], outputs: ['Y'], initializers: weights(200, [64, 64], { floatData: true }) });
  assert.ok(none.reads < all.reads - 150, `${none.reads} reads`);
});

test('a long name past the first bytes is read only if an input has a name of its length', async () => {
  const long = (i: number) => `model.encoder.layers.${String(i).padStart(3, '0')}.self_attention.query_key_value.weight`;
  const init = Array.from({ length: 100 }, (_, i) => ({ name: long(i), dims: [64, 64] }));
  const other = await inferSynthetic({ inputs: ['X'], outputs: ['Y'], initializers: init });
  const same = await inferSynthetic({ inputs: ['X', long(42)], outputs: ['Y'], initializers: init });
  assert.deepEqual(other.inputs, ['X']);
  assert.deepEqual(same.inputs, ['X']);
  assert.ok(same.reads > other.reads + 40, `${same.reads} reads when a name may match, ${other.reads} when none can`);
});
