// parseManifest: Hydrosphere's serving.yaml forms read unchanged, Kiln's additions, and bad manifests rejected with
// every problem located at its field path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isKilnError } from '@kiln/errors';
import { ManifestError, parseManifest, type Manifest } from './index';

const testdata = (name: string) => readFileSync(fileURLToPath(new URL(`../testdata/${name}`, import.meta.url)), 'utf8');
const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../../test/fixtures/third-party/hydrosphere/${name}`, import.meta.url)), 'utf8');

/** The ManifestError parseManifest throws for `text`. */
function rejection(text: string): ManifestError {
  try {
    parseManifest(text, 'kiln.yaml');
  } catch (err) {
    assert.ok(err instanceof ManifestError, `expected ManifestError, got ${String(err)}`);
    assert.ok(isKilnError(err));
    assert.equal(err.code, 'INVALID_ARGUMENT');
    return err;
  }
  assert.fail(`accepted:\n${text}`);
}

const locations = (err: ManifestError) => err.issues.map((i) => i.location);

test('a Hydrosphere 3.x serving.yaml of the scikit fixture is accepted unchanged', () => {
  const m = parseManifest(testdata('scikit.serving.yaml'), 'serving.yaml');
  assert.equal(m.kind, 'Model');
  assert.equal(m.name, 'claims-scikit');
  assert.equal(m.runtime, 'hydrosphere/serving-runtime-python-3.7:3.0.0');
  assert.equal(m.installCommand, 'pip install -r requirements.txt');
  assert.deepEqual(m.payload, ['src/', 'model.pkl', 'requirements.txt']);
  assert.deepEqual(m.contract, {
    form: 'single',
    signatures: [
      {
        name: 'predict',
        inputs: [{ name: 'client_profile', shape: [112], type: 'double', profile: 'numerical' }],
        outputs: [{ name: 'amount', shape: 'scalar', type: 'double', profile: 'numerical' }],
      },
    ],
  });
  assert.deepEqual(m.metadata, { author: 'data-science', 'scikit-learn': '0.23', framework: 'sklearn' });
  assert.deepEqual(Object.keys(m.extra), ['training-data', 'monitoring']);
  assert.deepEqual(
    m.warnings.map((w) => w.location),
    ['training-data', 'monitoring'],
  );
});

test('the scikit manifest says what the fixture contract.prototxt says', () => {
  const prototxt = fixture('scikit_model/contract.prototxt');
  const sig = parseManifest(testdata('scikit.serving.yaml'), 'serving.yaml').contract!.signatures[0];
  assert.match(prototxt, new RegExp(`signature_name: "${sig.name}"`));
  assert.match(prototxt, /name: "client_profile"[\s\S]*size: 112[\s\S]*dtype: DT_DOUBLE/);
  assert.match(prototxt, /name: "amount"\s*dtype: DT_DOUBLE/);
  assert.equal(sig.inputs[0].name, 'client_profile');
  assert.equal(sig.outputs[0].name, 'amount');
});

test('an image model with -1 batch dims and profiles is accepted', () => {
  const m = parseManifest(testdata('mnist.serving.yaml'), 'serving.yaml');
  const sig = m.contract!.signatures[0];
  assert.deepEqual(sig.inputs[0], { name: 'imgs', shape: [-1, 28, 28, 1], type: 'float32', profile: 'image' });
  assert.deepEqual(
    sig.outputs.map((f) => [f.name, f.type, f.profile]),
    [
      ['probabilities', 'float32', 'numerical'],
      ['class_ids', 'int64', 'categorical'],
    ],
  );
  assert.deepEqual(m.metadata, { dataset: 's3://bucket/mnist/version=3', epochs: '10' });
  assert.deepEqual(m.warnings, []);
});

test("Hydrosphere 1.x contracts keyed by signature name are read as signatures, and 'numeric' as numerical", () => {
  const m = parseManifest(testdata('keyed-1x.serving.yaml'), 'serving.yaml');
  assert.equal(m.contract!.form, 'keyed');
  assert.deepEqual(
    m.contract!.signatures.map((s) => [s.name, s.inputs.map((f) => f.name), s.outputs.map((f) => f.name)]),
    [
      ['tokenize', ['input_text'], ['output_text']],
      ['count', ['input_text'], ['tokens']],
    ],
  );
  assert.equal(m.contract!.signatures[1].outputs[0].profile, 'numerical');
  assert.equal(m.runtime, null);
  assert.deepEqual(m.extra, { 'model-type': 'python:3.6' });
});

test("the reference page's literal `signature_name:` placeholder is a signature of that name", () => {
  const m = parseManifest(
    'kind: Model\ncontract:\n  signature_name:\n    inputs:\n      field_name: {shape: scalar, type: int32, profile: numeric}\n    outputs: {}\n',
    'serving.yaml',
  );
  assert.equal(m.contract!.form, 'keyed');
  assert.equal(m.contract!.signatures[0].name, 'signature_name');
  assert.deepEqual(m.contract!.signatures[0].inputs[0], {
    name: 'field_name',
    shape: 'scalar',
    type: 'int32',
    profile: 'numerical',
  });
});

test('a file with a Model and an Application reads the Model and notes the Application', () => {
  const m = parseManifest(testdata('with-application.serving.yaml'), 'serving.yaml');
  assert.equal(m.name, 'claims-preprocessing');
  assert.equal(m.contract!.signatures[0].name, null);
  assert.deepEqual(m.warnings, [{ location: '', message: 'definition of kind Application ignored', line: 18 }]);
});

test("Kiln's manifest: labels, named dims, no runtime, unnamed signature", () => {
  const m = parseManifest(testdata('kiln.yaml'), 'kiln.yaml');
  assert.deepEqual(m.labels, { team: 'vision', stage: 'canary' });
  assert.equal(m.runtime, null);
  assert.equal(m.payload, null);
  assert.equal(m.contract!.signatures[0].name, null);
  assert.deepEqual(m.contract!.signatures[0].inputs[0].shape, ['batch', 1, 28, 28]);
  assert.equal(m.contract!.signatures[0].outputs[0].profile, null);
});

test('a minimal manifest needs no key at all but is a mapping', () => {
  const m: Manifest = parseManifest('labels: {a: b}\n', 'upload header');
  assert.equal(m.sourceName, 'upload header');
  assert.equal(m.contract, null);
  assert.equal(m.name, null);
  assert.deepEqual(m.extra, {});
});

test('metadata and label values keep numbers and booleans as written', () => {
  const m = parseManifest('metadata:\n  sparkVersion: 2.10\n  timestamp: 1497440372794\n  ok: true\n  hex: 0x1F\nlabels:\n  v: 1.0\n', 'x');
  assert.deepEqual(m.metadata, { sparkVersion: '2.10', timestamp: '1497440372794', ok: 'true', hex: '0x1F' });
  assert.deepEqual(m.labels, { v: '1.0' });
});

test('unknown top-level keys are kept with a warning that suggests the likely key', () => {
  const m = parseManifest('kind: Model\nruntme: a/b:1\nx-future: {a: 1}\n', 'kiln.yaml');
  assert.deepEqual(m.extra, { runtme: 'a/b:1', 'x-future': { a: 1 } });
  assert.deepEqual(m.warnings, [
    { location: 'runtme', line: 2, message: 'unknown key, kept but not used; did you mean "runtime"?' },
    { location: 'x-future', line: 3, message: 'unknown key, kept but not used' },
  ]);
});

test('an unknown profile is a warning (Hydrosphere used NONE), not an error', () => {
  const m = parseManifest(
    'contract:\n  inputs:\n    x: {shape: scalar, type: int64, profile: real}\n  outputs:\n    y: {shape: scalar, type: int64, profile: NUMERICAL}\n',
    'serving.yaml',
  );
  const sig = m.contract!.signatures[0];
  assert.equal(sig.inputs[0].profile, null);
  assert.equal(sig.outputs[0].profile, 'numerical');
  assert.equal(m.warnings.length, 1);
  assert.equal(m.warnings[0].location, 'contract.inputs.x.profile');
  assert.equal(m.warnings[0].line, 3);
});

test('a field without shape has unknown rank', () => {
  const m = parseManifest('contract:\n  inputs:\n    x: {type: string}\n  outputs: {}\n', 'k');
  assert.equal(m.contract!.signatures[0].inputs[0].shape, null);
});

// Each bad manifest, and the exact field paths its error names, in document order.
const BAD: Array<[string, string, string[]]> = [
  ['kind of another resource', 'kind: Application\n', ['kind']],
  ['name not a string', 'name: 3\n', ['name']],
  ['name with capitals and spaces', 'name: My Model\n', ['name']],
  ['name too long', `name: ${'a'.repeat(129)}\n`, ['name']],
  ['runtime not an image reference', 'runtime: "python 3.7"\n', ['runtime']],
  ['runtime with upper-case repository', 'runtime: Hydrosphere/runtime:1\n', ['runtime']],
  ['runtime a list', 'runtime: [a]\n', ['runtime']],
  ['install-command empty', 'install-command: ""\n', ['install-command']],
  ['payload not a list', 'payload: src/\n', ['payload']],
  ['payload entry absolute', 'payload:\n  - src/\n  - /path/to/model\n', ['payload[1]']],
  ['payload entry leaving the archive', 'payload:\n  - ../model.pkl\n', ['payload[0]']],
  ['payload entry not a string', 'payload:\n  - 3\n', ['payload[0]']],
  ['payload entry empty', 'payload:\n  - ""\n', ['payload[0]']],
  ['metadata not a mapping', 'metadata: [a]\n', ['metadata']],
  ['metadata value a mapping', 'metadata:\n  a: {b: c}\n', ['metadata.a']],
  ['metadata value null', 'metadata:\n  a:\n', ['metadata.a']],
  ['label key with spaces', 'labels:\n  "a b": c\n', ['labels["a b"]']],
  ['label value a list', 'labels:\n  a: [1]\n', ['labels.a']],
  ['contract a list', 'contract: [a]\n', ['contract']],
  ['contract without outputs', 'contract:\n  inputs: {}\n', ['contract.outputs']],
  ['contract empty mapping', 'contract: {}\n', ['contract.inputs', 'contract.outputs']],
  ['contract key misspelled', 'contract:\n  inputs: {}\n  ouputs: {}\n', ['contract.outputs', 'contract.ouputs']],
  ['contract name not a string', 'contract:\n  name: 1\n  inputs: {}\n  outputs: {}\n', ['contract.name']],
  ['contract signature_name as a key', 'contract:\n  signature_name: predict\n  inputs: {}\n  outputs: {}\n', ['contract.signature_name']],
  ['inputs a list', 'contract:\n  inputs: [x]\n  outputs: {}\n', ['contract.inputs']],
  ['field null', 'contract:\n  inputs:\n    x:\n  outputs: {}\n', ['contract.inputs.x']],
  ['field key misspelled', 'contract:\n  inputs:\n    x: {shpae: scalar, type: int64}\n  outputs: {}\n', ['contract.inputs.x.shpae']],
  ['field dtype instead of type', 'contract:\n  inputs:\n    x: {shape: scalar, dtype: int64}\n  outputs: {}\n', ['contract.inputs.x.dtype']],
  ['field with nested fields', 'contract:\n  inputs: {}\n  outputs:\n    y:\n      type: int64\n      fields: {a: {type: int64}}\n', ['contract.outputs.y.fields']],
  ['unknown type', 'contract:\n  inputs:\n    x: {shape: scalar, type: flaot32}\n  outputs: {}\n', ['contract.inputs.x.type']],
  ['type a number', 'contract:\n  inputs:\n    x: {shape: scalar, type: 32}\n  outputs: {}\n', ['contract.inputs.x.type']],
  ['shape a word', 'contract:\n  inputs:\n    x: {shape: vector, type: int64}\n  outputs: {}\n', ['contract.inputs.x.shape']],
  ['shape a number', 'contract:\n  inputs:\n    x: {shape: 3, type: int64}\n  outputs: {}\n', ['contract.inputs.x.shape']],
  ['dim below -1', 'contract:\n  inputs:\n    x: {shape: [-1, -2], type: int64}\n  outputs: {}\n', ['contract.inputs.x.shape[1]']],
  ['dim a fraction', 'contract:\n  inputs:\n    x: {shape: [2.5], type: int64}\n  outputs: {}\n', ['contract.inputs.x.shape[0]']],
  ['dim name with spaces', 'contract:\n  inputs:\n    x: {shape: ["a b"], type: int64}\n  outputs: {}\n', ['contract.inputs.x.shape[0]']],
  ['dim a list', 'contract:\n  inputs:\n    x: {shape: [[1]], type: int64}\n  outputs: {}\n', ['contract.inputs.x.shape[0]']],
  [
    'keyed signature with a misspelled key',
    'contract:\n  predict:\n    inputs: {}\n    outputs: {}\n    inptus: {}\n',
    ['contract.predict.inptus'],
  ],
  [
    'keyed signature field with a bad type',
    'contract:\n  a:\n    inputs:\n      x: {shape: scalar, type: int64}\n    outputs: {}\n  b:\n    inputs: {}\n    outputs:\n      y: {shape: scalar, type: text}\n',
    ['contract.b.outputs.y.type'],
  ],
  ['install-command without a runtime (known at upload, not only at build)', 'install-command: pip install scikit-learn\n', ['install-command']],
  [
    'field name with a dot is quoted',
    'contract:\n  inputs:\n    "a.b": {shape: scalar, type: nope}\n  outputs: {}\n',
    ['contract.inputs["a.b"].type'],
  ],
];

test('a field may leave out its type (the model says it): profile-only and shape-only fields parse with type null', () => {
  const m = parseManifest('contract:\n  inputs:\n    x: {profile: text}\n  outputs:\n    y: {shape: [batch, 3]}\n', 'kiln.yaml');
  const [sig] = m.contract!.signatures;
  assert.deepEqual(sig.inputs[0], { name: 'x', shape: null, type: null, profile: 'text' });
  assert.deepEqual(sig.outputs[0], { name: 'y', shape: ['batch', 3], type: null, profile: null });
});

test('every kiln.v1.DataType has a manifest type name: bfloat16, float8, int4/uint4, int2/uint2, float4 and float6', () => {
  for (const type of ['bfloat16', 'float8e4m3fn', 'float8e5m2fnuz', 'float8e8m0', 'int4', 'uint4', 'int2', 'uint2', 'float4e2m1', 'float6e2m3', 'float6e3m2']) {
    const m = parseManifest(`contract:\n  inputs:\n    x: {type: ${type}}\n  outputs: {}\n`, 'kiln.yaml');
    assert.equal(m.contract!.signatures[0].inputs[0].type, type);
  }
});

for (const [what, text, expected] of BAD) {
  test(`rejects ${what} at ${expected.join(', ')}`, () => {
    assert.deepEqual(locations(rejection(text)), expected);
  });
}

test('every problem of a manifest is reported together, in document order, each with its line', () => {
  const err = rejection(
    [
      'kind: Model',
      'name: Bad Name',
      'runtime: "not an image"',
      'payload: ["/abs"]',
      'contract:',
      '  inputs:',
      '    x:',
      '      shape: [-1, 28, -5]',
      '      type: flaot32',
      '      profil: image',
      '  outputs:',
      '    y: {shape: scalar, type: [float32]}',
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    err.issues.map((i) => [i.location, i.line]),
    [
      ['name', 2],
      ['runtime', 3],
      ['payload[0]', 4],
      ['contract.inputs.x.shape[2]', 8],
      ['contract.inputs.x.type', 9],
      ['contract.inputs.x.profil', 10],
      ['contract.outputs.y.type', 12],
    ],
  );
  assert.equal(err.location, 'name');
  for (const location of ['name', 'runtime', 'payload[0]', 'contract.inputs.x.shape[2]', 'contract.outputs.y.type']) {
    assert.ok(err.message.includes(location), `message names ${location}: ${err.message}`);
  }
  assert.match(err.message, /did you mean "float32"\?/);
  assert.match(err.message, /did you mean "profile"\?/);
  assert.match(err.message, /contract\.outputs\.y\.type: must be a string, not a list \(kiln\.yaml:12\)/);
});

test('the messages say what is wrong and what to write', () => {
  const issue = (text: string) => rejection(text).issues[0].message;
  assert.equal(issue('kind: Application\n'), 'must be "Model", not "Application"');
  assert.equal(issue('name: 3\n'), 'must be a string, not a number (3)');
  assert.equal(issue('contract:\n  inputs: {}\n'), 'is required');
  assert.match(issue('contract:\n  inputs:\n    x: {type: int64, dtype: int64}\n  outputs: {}\n'), /written `type`/);
  assert.match(issue('contract:\n  inputs:\n    x: {shape: vector, type: int64}\n  outputs: {}\n'), /"scalar" or a list of dims/);
});

test('YAML syntax errors, duplicate keys, empty and non-mapping documents are located at the file', () => {
  for (const [text, pattern] of [
    ['a: [1, 2\n', /not valid YAML/],
    ['name: a\nname: b\n', /not valid YAML.*[Mm]ap keys must be unique/],
    ['', /is empty/],
    ['# only a comment\n', /is empty/],
    ['- a\n- b\n', /must be a mapping/],
    ['just a string\n', /must be a mapping/],
  ] as const) {
    const err = rejection(text);
    assert.equal(err.location, 'kiln.yaml', text);
    assert.match(err.message, pattern, text);
  }
});

test('a syntax error names its line', () => {
  const err = rejection('kind: Model\nname: a\ncontract:\n  inputs: [\n');
  assert.ok(err.issues[0].line && err.issues[0].line >= 4, JSON.stringify(err.issues));
});

test('two Model definitions in one file are rejected', () => {
  const err = rejection('kind: Model\nname: a\n---\nkind: Model\nname: b\n');
  assert.equal(err.location, 'kind');
  assert.match(err.message, /2 model definitions \(lines 1, 4\)/);
});

test('a file with no Model definition is rejected', () => {
  const err = rejection('kind: Application\nname: a\n---\nkind: DeploymentConfiguration\nname: b\n');
  assert.match(err.message, /no definition of kind Model/);
});

test('a manifest larger than the limit is rejected before parsing', () => {
  const err = rejection(`metadata:\n  a: "${'x'.repeat(300 * 1024)}"\n`);
  assert.match(err.message, /larger than/);
});

test('alias bombs are refused', () => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 8; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
  const err = rejection(lines.join('\n') + '\n');
  assert.equal(err.location, 'kiln.yaml');
  assert.match(err.message, /alias/i);
});

test('image references in their usual forms are accepted as runtime', () => {
  for (const runtime of [
    'hydrosphere/serving-runtime-python-3.7:3.0.0',
    'python:3.11-slim',
    'registry.example.com:5000/team/runtime:v1.2',
    'localhost:5000/runtime',
    'ghcr.io/org/runtime@sha256:' + 'a'.repeat(64),
    'ghcr.io/org/runtime:1.0@sha256:' + 'b'.repeat(64),
  ]) {
    assert.equal(parseManifest(`runtime: ${runtime}\n`, 'k').runtime, runtime);
  }
});
