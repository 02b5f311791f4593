// contractFromManifest: Hydrosphere's type, shape and profile names as the contract model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MANIFEST_TYPES, parseManifest } from '@kiln/manifest';
import { isKilnError } from '@kiln/errors';
import { inferContract } from './index';
import { localModelFiles } from './local-files';
import { contractFromManifest, MANIFEST_DATA_TYPES } from './manifest';
import { memoryFiles } from './wire-testing';
import { DATA_TYPES, dim, field, tensor, unknownDim, type Contract } from './types';

const testdata = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../manifest/testdata/${name}`, import.meta.url)), 'utf8');
const contractOf = (text: string) => contractFromManifest(parseManifest(text, 'kiln.yaml'));

test('the scikit serving.yaml becomes the contract its contract.prototxt describes', () => {
  const c = contractOf(testdata('scikit.serving.yaml'));
  assert.deepEqual(c, {
    source: 'manifest',
    signatures: [
      {
        name: 'predict',
        method: '',
        tags: [],
        inputs: [field('client_profile', tensor('DATA_TYPE_DOUBLE', [dim(112)]), 'DATA_PROFILE_NUMERICAL')],
        outputs: [field('amount', tensor('DATA_TYPE_DOUBLE', []), 'DATA_PROFILE_NUMERICAL')],
      },
    ],
  } satisfies Contract);
});

test('scalar has zero dims, -1 is an unknown dim, a name an unknown named dim, no shape an unknown rank', () => {
  const c = contractOf(
    'contract:\n  inputs:\n    a: {shape: scalar, type: int64}\n    b: {shape: [-1, 28, 28], type: float32}\n' +
      '    c: {shape: [batch, 3], type: uint8}\n    d: {type: string}\n  outputs: {}\n',
  )!;
  assert.deepEqual(
    c.signatures[0].inputs.map((f) => (f.type === 'tensor' ? f.tensor.shape : 'not a tensor')),
    [{ dims: [] }, { dims: [unknownDim(), dim(28), dim(28)] }, { dims: [unknownDim('batch'), dim(3)] }, null],
  );
});

test("every Hydrosphere type name maps to a DataType, with Hydrosphere's aliases agreeing", () => {
  for (const t of MANIFEST_TYPES) assert.ok(MANIFEST_DATA_TYPES[t] in DATA_TYPES, t);
  assert.equal(MANIFEST_DATA_TYPES.half, MANIFEST_DATA_TYPES.float16);
  assert.equal(MANIFEST_DATA_TYPES.double, MANIFEST_DATA_TYPES.float64);
  assert.equal(MANIFEST_DATA_TYPES.float32, 'DATA_TYPE_FLOAT');
  assert.equal(MANIFEST_DATA_TYPES.half, 'DATA_TYPE_FLOAT16');
  assert.equal(MANIFEST_DATA_TYPES.qint32, 'DATA_TYPE_QINT32');
});

test('every DataType but UNSPECIFIED has a manifest type name, so a manifest can write any type the model can have', () => {
  const named = new Set(Object.values(MANIFEST_DATA_TYPES));
  const missing = Object.keys(DATA_TYPES).filter((t) => t !== 'DATA_TYPE_UNSPECIFIED' && !named.has(t as never));
  assert.deepEqual(missing, []);
  // Kiln's own names are DataType's, lowercased.
  assert.equal(MANIFEST_DATA_TYPES.float8e4m3fn, 'DATA_TYPE_FLOAT8E4M3FN');
  assert.equal(MANIFEST_DATA_TYPES.uint2, 'DATA_TYPE_UINT2');
});

test("Hydrosphere's finer profiles fold into Kiln's; none and unknown are unspecified", () => {
  const profiles = ['numerical', 'continuous', 'ratio', 'nominal', 'ordinal', 'image', 'text', 'audio', 'video', 'none', 'numeric', 'real'];
  const text = `contract:\n  inputs:\n${profiles.map((p) => `    ${p}: {shape: scalar, type: double, profile: ${p}}`).join('\n')}\n  outputs: {}\n`;
  const c = contractOf(text)!;
  assert.deepEqual(
    c.signatures[0].inputs.map((f) => f.profile),
    [
      'DATA_PROFILE_NUMERICAL',
      'DATA_PROFILE_NUMERICAL',
      'DATA_PROFILE_NUMERICAL',
      'DATA_PROFILE_CATEGORICAL',
      'DATA_PROFILE_ORDINAL',
      'DATA_PROFILE_IMAGE',
      'DATA_PROFILE_TEXT',
      'DATA_PROFILE_AUDIO',
      'DATA_PROFILE_VIDEO',
      'DATA_PROFILE_UNSPECIFIED',
      'DATA_PROFILE_NUMERICAL',
      'DATA_PROFILE_UNSPECIFIED',
    ],
  );
});

test('an unnamed signature is named "" (resolved by mergeContracts); keyed signatures keep their names', () => {
  assert.equal(contractOf(testdata('kiln.yaml'))!.signatures[0].name, '');
  assert.deepEqual(
    contractOf(testdata('keyed-1x.serving.yaml'))!.signatures.map((s) => s.name),
    ['tokenize', 'count'],
  );
});

test('fields keep the order the manifest lists them in', () => {
  const c = contractOf(testdata('mnist.serving.yaml'))!;
  assert.deepEqual(
    c.signatures[0].outputs.map((f) => f.name),
    ['probabilities', 'class_ids'],
  );
});

test('a manifest without a contract gives no contract', () => {
  assert.equal(contractOf('name: a\n'), null);
});

test("Hydrosphere's contract.prototxt of the scikit fixture is the contract its serving.yaml writes, but the profiles", async () => {
  const { contract, format, metadata } = await inferContract(await localModelFiles(fileURLToPath(new URL('../../../test/fixtures/third-party/hydrosphere/scikit_model', import.meta.url))));
  assert.equal(format, 'manifest');
  assert.equal(metadata['manifest.file'], 'contract.prototxt');
  const written = contractOf(testdata('scikit.serving.yaml'))!;
  const noProfiles = (c: Contract) => c.signatures.map((s) => ({ ...s, inputs: s.inputs.map((f) => ({ ...f, profile: 'DATA_PROFILE_UNSPECIFIED' })), outputs: s.outputs.map((f) => ({ ...f, profile: 'DATA_PROFILE_UNSPECIFIED' })) }));
  assert.deepEqual(noProfiles(contract!), noProfiles(written));
});

test('contract.prototxt: 1.x signatures lists, unknown rank, profiles; nested subfields and bad text are INVALID_ARGUMENT', async () => {
  const text = `model_name: "m"
signatures { signature_name: "a" inputs { name: "x" dtype: DT_FLOAT shape { dim { size: -1 } dim { size: 3 } } profile: IMAGE } outputs { name: "y" dtype: DT_STRING shape { unknown_rank: true } } }
signatures { signature_name: "b" inputs { name: "z" dtype: DT_INT64 } }`;
  const { contract } = await inferContract(memoryFiles({ 'contract.prototxt': Buffer.from(text), 'model.pkl': Buffer.from('x') }));
  assert.deepEqual(contract!.signatures.map((s) => s.name), ['a', 'b']);
  assert.deepEqual(contract!.signatures[0].inputs[0], field('x', tensor('DATA_TYPE_FLOAT', [unknownDim(), dim(3)]), 'DATA_PROFILE_IMAGE'));
  assert.deepEqual(contract!.signatures[0].outputs[0], field('y', tensor('DATA_TYPE_STRING', null)));
  const nested = 'predict { inputs { name: "x" subfields { data { name: "a" dtype: DT_FLOAT } } } }';
  for (const bad of [nested, 'predict { inputs { name: "x" dtype: DT_NOPE } }', 'predict { inputs {']) {
    await assert.rejects(inferContract(memoryFiles({ 'contract.prototxt': Buffer.from(bad) })), (e) => isKilnError(e) && e.code === 'INVALID_ARGUMENT' && /contract\.prototxt/.test(e.message));
  }
});
