// Tests of SavedModel contract inference: which file is the model, text and binary agree, graph_def is skipped,
// corrupt files are errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isKilnError } from '@kiln/errors';
import { localModelFiles } from './local-files';
import { openLocalFile } from './local-files';
import { pickSavedModelFile, savedModelFormat, scanSavedModel, tfRoot } from './savedmodel';
import { parseTextSavedModel } from './savedmodel-pbtxt';
import { bufferFile, CountingFile } from './wire';
import { corruptions, fuzz, memoryFiles } from './wire-testing';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = (name: string) => path.join(repoRoot, 'test/fixtures/savedmodel', name);
const thirdParty = path.resolve(repoRoot, 'test/fixtures/third-party');
const entries = (...paths: string[]) => paths.map((p) => ({ path: p, size: 1 }));

test('pickSavedModelFile: root, shallowest, highest TF Serving version, .pb before .pbtxt', () => {
  assert.equal(pickSavedModelFile(entries('saved_model.pb', 'variables/variables.index')), 'saved_model.pb');
  assert.equal(pickSavedModelFile(entries('m/1/saved_model.pb', 'm/9/saved_model.pb', 'm/10/saved_model.pb')), 'm/10/saved_model.pb');
  assert.equal(pickSavedModelFile(entries('a/saved_model.pb', 'a/b/saved_model.pb')), 'a/saved_model.pb');
  assert.equal(pickSavedModelFile(entries('x/saved_model.pbtxt', 'x/saved_model.pb')), 'x/saved_model.pb');
  assert.equal(pickSavedModelFile(entries('x/saved_model.pbtxt')), 'x/saved_model.pbtxt');
  assert.equal(pickSavedModelFile(entries('model.onnx')), undefined);
  assert.throws(() => pickSavedModelFile(entries('a/saved_model.pb', 'b/saved_model.pb')), /several SavedModels/);
});

test('detect: saved_model.pb or .pbtxt, not other files', () => {
  assert.ok(savedModelFormat.detect(entries('1/saved_model.pb')));
  assert.ok(savedModelFormat.detect(entries('saved_model.pbtxt')));
  assert.ok(!savedModelFormat.detect(entries('model.pb', 'saved_model.json')));
});

test('TF Serving layout with two versions: the highest version is read', async () => {
  const { metadata } = await savedModelFormat.infer(await localModelFiles(path.join(thirdParty, 'tf-serving/saved_model_half_plus_two_2_versions')));
  assert.equal(metadata['savedmodel.file'], '00000124/saved_model.pb');
});

test('text format and binary give the same contract', async () => {
  const bin = await savedModelFormat.infer(await localModelFiles(fixture('tf1_sparse_ragged')));
  const txt = await savedModelFormat.infer(await localModelFiles(fixture('tf1_pbtxt')));
  assert.deepEqual(txt.contract, bin.contract);
  assert.equal(bin.contract.signatures.length, 4); // two MetaGraphDefs (serve; serve,gpu), two signatures each
});

test('__saved_model_init_op is not a signature; ragged and sparse outputs keep their types', async () => {
  const { contract } = await savedModelFormat.infer(await localModelFiles(fixture('tf2_signatures')));
  assert.deepEqual(contract.signatures.map((s) => s.name), ['all_dtypes', 'classify', 'serving_default', 'sparse_out', 'unknown_rank']);
  const out = contract.signatures.find((s) => s.name === 'sparse_out')!.outputs;
  assert.deepEqual(out.map((f) => f.type), ['raggedTensor', 'sparseTensor']);
  const ragged = out[0].type === 'raggedTensor' ? out[0].raggedTensor : undefined;
  assert.deepEqual(ragged, { dtype: 'DATA_TYPE_INT64', shape: { dims: [{ size: -1, name: '' }, { size: 5, name: '' }] }, raggedRank: 1, rowSplitsDtype: 'DATA_TYPE_INT64' });
});

test('graph_def and the object graph are skipped: a fraction of saved_model.pb is read', async () => {
  for (const p of [fixture('tf2_signatures/saved_model.pb'), path.join(thirdParty, 'hydrosphere/tensorflow_model/saved_model.pb')]) {
    const file = new CountingFile(await openLocalFile(p));
    await scanSavedModel(file);
    assert.ok(file.bytesRead < file.size / 2, `${p}: read ${file.bytesRead} of ${file.size}`);
  }
});

test('a SavedModel without MetaGraphDefs, or not a protobuf, is an INVALID_ARGUMENT error', async () => {
  await assert.rejects(savedModelFormat.infer(memoryFiles({ 'saved_model.pb': Buffer.alloc(0) })), /no MetaGraphDef/);
  await assert.rejects(savedModelFormat.infer(memoryFiles({ 'saved_model.pb': Buffer.from([0xff, 0xff]) })), (e) => isKilnError(e) && e.code === 'INVALID_ARGUMENT');
  await assert.rejects(savedModelFormat.infer(memoryFiles({ 'saved_model.pbtxt': Buffer.from('meta_graphs { signature_def {') })), /saved_model\.pbtxt@/);
});

test('pbtxt: comments, <> delimiters, lists, escapes and concatenated strings', async () => {
  const text = `# a comment
saved_model_schema_version: 1
meta_graphs <
  meta_info_def { tags: ["serve", 'g\\x70u'] any_info { [type.googleapis.com/x.Y] { a: 1 } } }
  graph_def { node { name: "big" attr { key: "value" value { tensor { tensor_content: "\\000\\001" } } } } }
  signature_def { key: "s" value { method_name: "tensorflow/" "serving/predict"
    inputs { key: "x" value { name: "x:0" dtype: DT_HALF tensor_shape { dim { size: -1 } dim: { size: 3 } } } }
    outputs [ { key: "y" value { dtype: 19 tensor_shape { unknown_rank: true } } } ] } }
>`;
  const msg = await parseTextSavedModel(bufferFile('saved_model.pbtxt', Buffer.from(text)), tfRoot);
  const { contract } = await savedModelFormat.infer(memoryFiles({ 'saved_model.pbtxt': Buffer.from(text) }));
  assert.equal(msg.saved_model_schema_version, 1);
  assert.deepEqual(contract.signatures, [{
    name: 's', method: 'tensorflow/serving/predict', tags: ['serve', 'gpu'],
    inputs: [{ name: 'x', profile: 'DATA_PROFILE_UNSPECIFIED', type: 'tensor', tensor: { dtype: 'DATA_TYPE_FLOAT16', shape: { dims: [{ size: -1, name: '' }, { size: 3, name: '' }] } } }],
    outputs: [{ name: 'y', profile: 'DATA_PROFILE_UNSPECIFIED', type: 'tensor', tensor: { dtype: 'DATA_TYPE_FLOAT16', shape: null } }],
  }]);
});

test('composites: TensorArray is a sequence, Optional an optional; another TypeSpec an untyped field with a note', async () => {
  // The type_spec values are TensorFlow's own encodings (nested_structure_coder.encode_structure of
  // TensorArraySpec([2, None], float32, dynamic_size=True) and OptionalSpec(TensorSpec([3], int64))).
  const text = `meta_graphs { meta_info_def { tags: "serve" }
  signature_def { key: "serving_default" value { method_name: "tensorflow/serving/predict"
    inputs { key: "x" value { name: "x:0" dtype: DT_FLOAT tensor_shape { dim { size: -1 } } } }
    outputs { key: "ta" value { composite_tensor { type_spec { type_spec_class: TENSOR_ARRAY_SPEC type_state { tuple_value {
      values { tensor_shape_value { dim { size: 2 } dim { size: -1 } } } values { tensor_dtype_value: DT_FLOAT }
      values { bool_value: true } values { bool_value: true } } } type_spec_class_name: "TensorArraySpec" } } } }
    outputs { key: "opt" value { composite_tensor { type_spec { type_spec_class: OPTIONAL_SPEC type_state { tuple_value {
      values { tensor_spec_value { shape { dim { size: 3 } } dtype: DT_INT64 } } } } type_spec_class_name: "OptionalSpec" } } } }
    outputs { key: "masked" value { composite_tensor { type_spec { type_spec_class: EXTENSION_TYPE_SPEC
      type_spec_class_name: "MaskedTensor.Spec" } } } } } } }`;
  const { contract, metadata } = await savedModelFormat.infer(memoryFiles({ 'saved_model.pbtxt': Buffer.from(text) }));
  const [sig] = contract.signatures;
  const none = 'DATA_PROFILE_UNSPECIFIED';
  assert.deepEqual(sig.outputs, [
    { name: 'masked', profile: none, type: 'tensor', tensor: { dtype: 'DATA_TYPE_UNSPECIFIED', shape: null } },
    { name: 'opt', profile: none, type: 'optional', optional: { elementType: { type: 'tensor', tensor: { dtype: 'DATA_TYPE_INT64', shape: { dims: [{ size: 3, name: '' }] } } } } },
    { name: 'ta', profile: none, type: 'sequence', sequence: { elementType: { type: 'tensor', tensor: { dtype: 'DATA_TYPE_FLOAT', shape: { dims: [{ size: 2, name: '' }, { size: -1, name: '' }] } } } } },
  ]);
  assert.equal(sig.inputs[0].name, 'x');
  assert.equal(metadata['savedmodel.unsupported.serving_default.outputs.masked'], 'MaskedTensor.Spec');
  assert.equal(Object.keys(metadata).filter((k) => k.startsWith('savedmodel.unsupported.')).length, 1);
});

test('fuzz: 300 truncated or mutated SavedModels (binary and text) each end in a contract or a KilnError', async () => {
  const cases: Array<[string, string]> = [
    [fixture('tf2_signatures/saved_model.pb'), 'saved_model.pb'],
    [fixture('tf1_sparse_ragged/saved_model.pb'), 'saved_model.pb'],
    [fixture('tf1_pbtxt/saved_model.pbtxt'), 'saved_model.pbtxt'],
  ];
  let total = 0;
  for (const [i, [p, name]] of cases.entries()) {
    const res = await fuzz(corruptions(readFileSync(p), 2000 + i, 100), (bytes) => savedModelFormat.infer(memoryFiles({ [name]: bytes })));
    assert.ok(res.rejected > 0, p);
    total += res.ok + res.rejected;
  }
  assert.equal(total, 300);
});
