// mergeContracts: a manifest refines the inferred contract (profiles, unknown dims, dim names) and is rejected,
// field by field, where it contradicts the model's metadata.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManifestError, parseManifest } from '@kiln/manifest';
import { isKilnError } from '@kiln/errors';
import { inferContract } from './index';
import { localModelFiles } from './local-files';
import { savedModelFormat } from './savedmodel';
import { contractFromManifest } from './manifest';
import { mergeContracts } from './merge';
import { dim, field, tensor, unknownDim, type Contract, type Field, type Signature } from './types';

const testdata = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../manifest/testdata/${name}`, import.meta.url)), 'utf8');

const signature = (name: string, inputs: Field[], outputs: Field[], extra: Partial<Signature> = {}): Signature => ({
  name,
  method: '',
  inputs,
  outputs,
  tags: [],
  ...extra,
});

/** What the ONNX reader gives for the fixture hydrosphere/onnx_mnist/mnist.onnx (graph CNTKGraph). */
const onnxMnist = (): Contract => ({
  source: 'onnx',
  signatures: [
    signature(
      'CNTKGraph',
      [field('Input73', tensor('DATA_TYPE_FLOAT', [dim(1), dim(1), dim(28), dim(28)]))],
      [field('Plus422_Output_0', tensor('DATA_TYPE_FLOAT', [dim(1), dim(10)]))],
    ),
  ],
});

/** A SavedModel-like contract with a batch dim of unknown size. */
const savedModel = (): Contract => ({
  source: 'savedmodel',
  signatures: [
    signature(
      'serving_default',
      [
        field('x', tensor('DATA_TYPE_FLOAT', [unknownDim(), dim(112)])),
        field('mask', tensor('DATA_TYPE_BOOL', [unknownDim(), unknownDim()])),
      ],
      [field('y', tensor('DATA_TYPE_DOUBLE', [unknownDim()]))],
      { method: 'tensorflow/serving/predict', tags: ['serve'] },
    ),
    signature('classify', [field('x', tensor('DATA_TYPE_FLOAT', [unknownDim(), dim(112)]))], [
      field('classes', tensor('DATA_TYPE_STRING', [unknownDim()])),
    ]),
  ],
});

/** Just serving_default, for manifests that leave the signature unnamed. */
const oneSignature = (): Contract => ({ ...savedModel(), signatures: [savedModel().signatures[0]] });

const manifestContract = (yaml: string) => contractFromManifest(parseManifest(yaml, 'kiln.yaml'));

function contract(fields: string, name = 'serving_default', outputs = ''): string {
  return `contract:\n  name: ${name}\n  inputs:\n${fields}\n  outputs:${outputs ? `\n${outputs}` : ' {}'}\n`;
}

function rejection(inferred: Contract, manifestYaml: string): ManifestError {
  try {
    mergeContracts(inferred, manifestContract(manifestYaml));
  } catch (err) {
    assert.ok(err instanceof ManifestError, String(err));
    assert.ok(isKilnError(err));
    assert.equal(err.code, 'INVALID_ARGUMENT');
    return err;
  }
  assert.fail('merged');
}
const locations = (err: ManifestError) => err.issues.map((i) => i.location);

test('with neither contract there is none', () => {
  assert.equal(mergeContracts(null, null), null);
});

test('with only the inferred contract, it is returned as is', () => {
  const inferred = savedModel();
  assert.equal(mergeContracts(inferred, null), inferred);
});

test("with only the manifest's contract, it is returned with source manifest; unnamed becomes predict", () => {
  const merged = mergeContracts(null, manifestContract(testdata('with-application.serving.yaml')))!;
  assert.equal(merged.source, 'manifest');
  assert.deepEqual(
    merged.signatures.map((s) => s.name),
    ['predict'],
  );
  const named = mergeContracts(null, manifestContract(testdata('keyed-1x.serving.yaml')))!;
  assert.deepEqual(
    named.signatures.map((s) => s.name),
    ['tokenize', 'count'],
  );
});

test("the ONNX mnist model with kiln.yaml gains profiles; known sizes stay; source stays onnx", () => {
  const inferred = onnxMnist();
  const merged = mergeContracts(inferred, manifestContract(testdata('kiln.yaml')))!;
  assert.equal(merged.source, 'onnx');
  assert.deepEqual(merged.signatures, [
    signature(
      'CNTKGraph',
      [field('Input73', tensor('DATA_TYPE_FLOAT', [dim(1), dim(1), dim(28), dim(28)]), 'DATA_PROFILE_IMAGE')],
      [field('Plus422_Output_0', tensor('DATA_TYPE_FLOAT', [dim(1), dim(10)]))],
    ),
  ]);
  assert.deepEqual(inferred, onnxMnist(), 'the inferred contract is not changed in place');
});

test('a manifest narrows unknown dims to sizes and names, keeping names the model gave', () => {
  const inferred: Contract = {
    source: 'onnx',
    signatures: [
      signature('g', [field('a', tensor('DATA_TYPE_INT64', [unknownDim('N'), unknownDim(), unknownDim()]))], []),
    ],
  };
  const merged = mergeContracts(inferred, manifestContract(contract('    a: {shape: [32, batch, -1], type: int64}', 'g')))!;
  assert.deepEqual(merged.signatures[0].inputs[0], field('a', tensor('DATA_TYPE_INT64', [dim(32, 'N'), unknownDim('batch'), unknownDim()])));
});

test('an unnamed manifest signature refines the model’s only signature, whatever the format calls it', () => {
  const merged = mergeContracts(
    oneSignature(),
    manifestContract('contract:\n  inputs:\n    x: {shape: [64, 112], type: float32, profile: numerical}\n  outputs: {}\n'),
  )!;
  const sig = merged.signatures[0];
  assert.equal(sig.name, 'serving_default');
  assert.equal(sig.method, 'tensorflow/serving/predict');
  assert.deepEqual(sig.tags, ['serve']);
  assert.deepEqual(sig.inputs[0], field('x', tensor('DATA_TYPE_FLOAT', [dim(64), dim(112)]), 'DATA_PROFILE_NUMERICAL'));
  assert.deepEqual(sig.inputs[1], oneSignature().signatures[0].inputs[1], 'fields the manifest omits stay');
});

test('signatures the manifest does not describe stay, in the model’s order', () => {
  const merged = mergeContracts(savedModel(), manifestContract(contract('    x: {shape: [-1, 112], type: float32, profile: numerical}', 'classify')))!;
  assert.deepEqual(
    merged.signatures.map((s) => s.name),
    ['serving_default', 'classify'],
  );
  assert.deepEqual(merged.signatures[0], savedModel().signatures[0]);
  assert.equal(merged.signatures[1].inputs[0].profile, 'DATA_PROFILE_NUMERICAL');
});

test('fields keep the model’s order whatever order the manifest lists them in', () => {
  const merged = mergeContracts(
    oneSignature(),
    manifestContract(contract('    mask: {shape: [-1, -1], type: bool, profile: categorical}\n    x: {shape: [-1, 112], type: float32}')),
  )!;
  assert.deepEqual(
    merged.signatures[0].inputs.map((f) => [f.name, f.profile]),
    [
      ['x', 'DATA_PROFILE_UNSPECIFIED'],
      ['mask', 'DATA_PROFILE_CATEGORICAL'],
    ],
  );
});

test('a manifest fills what the model does not say: an unspecified dtype, an unknown rank', () => {
  const inferred: Contract = {
    source: 'spark',
    signatures: [signature('s', [field('f', tensor('DATA_TYPE_UNSPECIFIED', null))], [])],
  };
  const merged = mergeContracts(inferred, manifestContract(contract('    f: {shape: [-1, 3], type: double}', 's')))!;
  assert.deepEqual(merged.signatures[0].inputs[0], field('f', tensor('DATA_TYPE_DOUBLE', [unknownDim(), dim(3)])));
});

test("a manifest field without shape keeps the model's shape", () => {
  const merged = mergeContracts(oneSignature(), manifestContract(contract('    x: {type: float32, profile: numerical}')))!;
  assert.deepEqual(merged.signatures[0].inputs[0].type === 'tensor' && merged.signatures[0].inputs[0].tensor.shape, {
    dims: [unknownDim(), dim(112)],
  });
});

test('sparse and ragged fields keep their kind when refined', () => {
  const inferred: Contract = {
    source: 'savedmodel',
    signatures: [
      signature(
        's',
        [
          { name: 'sp', profile: 'DATA_PROFILE_UNSPECIFIED', type: 'sparseTensor', sparseTensor: { dtype: 'DATA_TYPE_INT64', shape: { dims: [unknownDim(), unknownDim()] } } },
          {
            name: 'rg',
            profile: 'DATA_PROFILE_UNSPECIFIED',
            type: 'raggedTensor',
            raggedTensor: { dtype: 'DATA_TYPE_STRING', shape: { dims: [unknownDim(), unknownDim()] }, raggedRank: 1, rowSplitsDtype: 'DATA_TYPE_INT64' },
          },
        ],
        [],
      ),
    ],
  };
  const merged = mergeContracts(
    inferred,
    manifestContract(contract('    sp: {shape: [-1, 1000], type: int64, profile: categorical}\n    rg: {shape: [-1, -1], type: string, profile: text}', 's')),
  )!;
  assert.deepEqual(merged.signatures[0].inputs, [
    { name: 'sp', profile: 'DATA_PROFILE_CATEGORICAL', type: 'sparseTensor', sparseTensor: { dtype: 'DATA_TYPE_INT64', shape: { dims: [unknownDim(), dim(1000)] } } },
    {
      name: 'rg',
      profile: 'DATA_PROFILE_TEXT',
      type: 'raggedTensor',
      raggedTensor: { dtype: 'DATA_TYPE_STRING', shape: { dims: [unknownDim(), unknownDim()] }, raggedRank: 1, rowSplitsDtype: 'DATA_TYPE_INT64' },
    },
  ]);
});

// Each contradiction, and the manifest field path its error names.
const CONTRADICTIONS: Array<[string, () => Contract, string, string[], RegExp]> = [
  ['another dtype', oneSignature, contract('    x: {shape: [-1, 112], type: float64}'), ['contract.inputs.x.type'], /is float, not double/],
  ['another rank', oneSignature, contract('    x: {shape: [-1, 112, 1], type: float32}'), ['contract.inputs.x.shape'], /rank 2 \(\[-1, 112\]\), not 3/],
  ['a scalar for a tensor', oneSignature, contract('    x: {shape: scalar, type: float32}'), ['contract.inputs.x.shape'], /rank 2/],
  ['a size that differs from a known size', oneSignature, contract('    x: {shape: [-1, 113], type: float32}'), ['contract.inputs.x.shape[1]'], /size 112 here, not 113/],
  ['an input the model lacks', oneSignature, contract('    z: {shape: scalar, type: float32}'), ['contract.inputs.z'], /no input "z"; its inputs: "x", "mask"/],
  ['an output listed as an input', oneSignature, contract('    y: {shape: [-1], type: double}'), ['contract.inputs.y'], /"y" is an output of the model, not an input/],
  ['an output with another dtype', oneSignature, contract('    x: {type: float32}', 'serving_default', '    y: {shape: [-1], type: float32}'), ['contract.outputs.y.type'], /is double, not float/],
  ['a signature the model lacks', savedModel, contract('    x: {type: float32}', 'predict'), ['contract.name'], /no signature "predict"; its signatures: "serving_default", "classify"/],
  ['an unnamed signature with several in the model', savedModel, 'contract:\n  inputs: {}\n  outputs: {}\n', ['contract.name'], /has 2 signatures/],
  ['a dim name that differs from the model’s', () => ({ source: 'onnx', signatures: [signature('g', [field('a', tensor('DATA_TYPE_FLOAT', [unknownDim('N')]))], [])] }), contract('    a: {shape: [batch], type: float32}', 'g'), ['contract.inputs.a.shape[0]'], /names this dim "N", not "batch"/],
  ['a sequence described as a tensor', () => ({ source: 'onnx', signatures: [signature('g', [{ name: 'seq', profile: 'DATA_PROFILE_UNSPECIFIED', type: 'sequence', sequence: { elementType: tensor('DATA_TYPE_FLOAT', []) } }], [])] }), contract('    seq: {shape: [-1], type: float32}', 'g'), ['contract.inputs.seq.type'], /is a sequence; a manifest can give its profile, but a type and shape describe tensors only/],
];

for (const [what, inferred, yaml, expected, message] of CONTRADICTIONS) {
  test(`rejects ${what} at ${expected.join(', ')}`, () => {
    const err = rejection(inferred(), yaml);
    assert.deepEqual(locations(err), expected);
    assert.equal(err.location, expected[0]);
    assert.match(err.message, message);
  });
}

test('every contradiction is reported together', () => {
  const err = rejection(
    oneSignature(),
    contract(
      '    x: {shape: [-1, 100], type: int32}\n    mask: {shape: [-1], type: bool}\n    nope: {type: bool}',
      'serving_default',
      '    y: {shape: [-1], type: string}',
    ),
  );
  assert.deepEqual(locations(err), [
    'contract.inputs.x.type',
    'contract.inputs.x.shape[1]',
    'contract.inputs.mask.shape',
    'contract.inputs.nope',
    'contract.outputs.y.type',
  ]);
});

test('in a manifest with several signatures, paths name the signature', () => {
  const yaml =
    'contract:\n' +
    '  serving_default:\n    inputs:\n      x: {shape: [-1, 112], type: int64}\n    outputs: {}\n' +
    '  regress:\n    inputs: {}\n    outputs: {}\n';
  assert.deepEqual(locations(rejection(savedModel(), yaml)), ['contract.serving_default.inputs.x.type', 'contract.regress']);
});

test('a manifest that agrees entirely changes nothing but profiles', () => {
  const merged = mergeContracts(
    oneSignature(),
    manifestContract(contract('    x: {shape: [-1, 112], type: float32}\n    mask: {shape: [-1, -1], type: bool}', 'serving_default', '    y: {shape: [-1], type: double, profile: numerical}')),
  )!;
  const expected = oneSignature();
  expected.signatures[0].outputs[0].profile = 'DATA_PROFILE_NUMERICAL';
  assert.deepEqual(merged, expected);
});

test('a manifest gives profiles without types: tensors, and sequences, maps and optionals (which take no type)', () => {
  const seq = { type: 'sequence', sequence: { elementType: tensor('DATA_TYPE_FLOAT', []) } } as const;
  const opt = { type: 'optional', optional: { elementType: tensor('DATA_TYPE_INT64', [dim(2)]) } } as const;
  const inferred: Contract = { source: 'onnx', signatures: [signature('g', [field('x', tensor('DATA_TYPE_FLOAT', [unknownDim()])), field('s', seq)], [field('o', opt)])] };
  const merged = mergeContracts(inferred, manifestContract(contract('    x: {profile: image}\n    s: {profile: numerical}', 'g', '    o: {profile: categorical}')))!;
  const [sig] = merged.signatures;
  assert.deepEqual(sig.inputs.map((f) => [f.name, f.type, f.profile]), [['x', 'tensor', 'DATA_PROFILE_IMAGE'], ['s', 'sequence', 'DATA_PROFILE_NUMERICAL']]);
  assert.deepEqual(sig.inputs[0].type === 'tensor' && sig.inputs[0].tensor.dtype, 'DATA_TYPE_FLOAT');
  assert.deepEqual(sig.outputs[0], { ...field('o', opt), profile: 'DATA_PROFILE_CATEGORICAL' });
});

test('a manifest that is the only contract must give each type: the error says why, per field', () => {
  assert.throws(
    () => mergeContracts(null, manifestContract(contract('    x: {profile: image}\n    z: {type: int64}', 'predict', '    y: {shape: [2]}'))),
    (err: unknown) => {
      assert.ok(err instanceof ManifestError);
      assert.deepEqual(locations(err), ['contract.inputs.x.type', 'contract.outputs.y.type']);
      assert.match(err.message, /is required: the model's files give no contract of their own/);
      return true;
    },
  );
});

test('a signature name repeated across MetaGraphDefs (tf1_sparse_ragged: [serve] and [serve, gpu]) is refined in each', async () => {
  const { contract: model } = await savedModelFormat.infer(await localModelFiles(fixtures('savedmodel/tf1_sparse_ragged')));
  const named = model.signatures.filter((s) => s.name === 'serving_default');
  assert.deepEqual(named.map((s) => s.tags), [['serve'], ['serve', 'gpu']]);
  const input = named[0].inputs[0].name;
  const merged = mergeContracts(model, manifestContract(contract(`    ${input}: {profile: numerical}`)))!;
  const refined = merged.signatures.filter((s) => s.name === 'serving_default');
  assert.deepEqual(refined.map((s) => s.inputs.find((f) => f.name === input)!.profile), ['DATA_PROFILE_NUMERICAL', 'DATA_PROFILE_NUMERICAL']);
  assert.deepEqual(refined.map((s) => s.tags), [['serve'], ['serve', 'gpu']]);
  // The other signatures stay as they were.
  assert.deepEqual(merged.signatures.filter((s) => s.name !== 'serving_default'), model.signatures.filter((s) => s.name !== 'serving_default'));
});

test('an unnamed manifest signature refines a signature that each MetaGraphDef repeats', () => {
  const sig = oneSignature().signatures[0];
  const twice: Contract = { source: 'savedmodel', signatures: [sig, { ...sig, tags: ['serve', 'gpu'] }] };
  const merged = mergeContracts(twice, manifestContract('contract:\n  inputs:\n    x: {profile: numerical}\n  outputs: {}\n'))!;
  assert.deepEqual(merged.signatures.map((s) => [s.tags.join(','), s.inputs[0].profile]), [['serve', 'DATA_PROFILE_NUMERICAL'], ['serve,gpu', 'DATA_PROFILE_NUMERICAL']]);
  // A contradiction is reported once, not once per MetaGraphDef.
  assert.deepEqual(locations(rejection(twice, 'contract:\n  inputs:\n    x: {type: int64}\n  outputs: {}\n')), ['contract.inputs.x.type']);
});

// ------------------------------------------------------------------ inferContract: model files and manifest together

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const fixtures = (rel: string) => `${repoRoot}test/fixtures/${rel}`;
const thirdPartyFixtures = (rel: string) => `${repoRoot}test/fixtures/third-party/${rel}`;
const MANIFEST_CONTRACT = 'contract:\n  inputs:\n    x: {type: float32, shape: [-1, 10]}\n  outputs:\n    y: {type: float32, shape: [-1, 2]}\n';

async function inferRejection(dir: string, manifest?: string) {
  const err = await inferContract(await localModelFiles(dir), manifest).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(isKilnError(err) && err.code === 'INVALID_ARGUMENT', String(err));
  return err;
}

test('a SavedModel without signatures (saved with signatures={}) takes the contract from the manifest', async () => {
  const { contract, format } = await inferContract(await localModelFiles(fixtures('keras/nosig_savedmodel')), MANIFEST_CONTRACT);
  assert.equal(format, 'savedmodel');
  assert.equal(contract?.source, 'manifest');
  assert.deepEqual(contract?.signatures.map((s) => [s.name, s.inputs[0].name, s.outputs[0].name]), [['predict', 'x', 'y']]);
});

test('a SavedModel without signatures and no manifest contract: the error names the file and says to write one', async () => {
  const err = await inferRejection(fixtures('keras/nosig_savedmodel'));
  assert.equal(err.location, 'saved_model.pb');
  assert.match(err.message, /no signatures.*contract:.*kiln\.yaml/);
});

test('several Keras model files are refused, listing them; the manifest payload can pick one', async () => {
  const dir = thirdPartyFixtures('hydrosphere/keras_model');
  const err = await inferRejection(dir);
  assert.match(err.message, /functional\/nonseq_model\.h5, sequential\/keras_fashion_mnist\.h5/);
  const { contract } = await inferContract(await localModelFiles(dir), 'payload: [sequential/]\n');
  assert.equal(contract?.signatures[0].inputs[0].name, 'flatten_1_input');
  const both = await inferRejection(dir, 'payload: ["**/*.h5"]\n');
  assert.equal(both.location, 'payload');
});

test('several ONNX files are refused; one ONNX file beside other files is read', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-two-onnx-'));
  t.after(() => rmSync(dir, { recursive: true }));
  const mnist = readFileSync(thirdPartyFixtures('hydrosphere/onnx_mnist/mnist.onnx'));
  writeFileSync(path.join(dir, 'a.onnx'), mnist);
  writeFileSync(path.join(dir, 'README.txt'), 'a model');
  assert.equal((await inferContract(await localModelFiles(dir))).format, 'onnx');
  writeFileSync(path.join(dir, 'b.onnx'), mnist);
  assert.match((await inferRejection(dir)).message, /several onnx model files \(a\.onnx, b\.onnx\)/);
  assert.equal((await inferContract(await localModelFiles(dir), 'payload: [b.onnx]\n')).format, 'onnx');
});
