// Conformance: for every fixture, Kiln's contract equals, field by field, what the real library (python onnx,
// TensorFlow) reports; the reports are written by scripts/fixtures/generate_onnx_savedmodel.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATA_TYPES, type DataType } from './types';
import type { ContractFormat } from './format';
import { localModelFiles } from './local-files';
import { onnxFormat } from './onnx';
import { savedModelFormat } from './savedmodel';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtures = path.join(repoRoot, 'test/fixtures');

function fromOnnxName(name: string): DataType {
  const kiln = `DATA_TYPE_${name === 'UNDEFINED' ? 'UNSPECIFIED' : name}`;
  assert.ok(kiln in DATA_TYPES, `ONNX type ${name} is missing from DataType`);
  return kiln as DataType;
}

/** TensorFlow's DT_ names onto ours by name (independent of the numeric table in dtypes.ts, which this checks). */
function fromTfName(name: string): DataType {
  const renamed: Record<string, string> = { DT_INVALID: 'UNSPECIFIED', DT_HALF: 'FLOAT16', DT_FLOAT4_E2M1FN: 'FLOAT4E2M1' };
  const kiln = `DATA_TYPE_${renamed[name] ?? name.replace(/^DT_/, '').replace(/_/g, '')}`;
  assert.ok(kiln in DATA_TYPES, `TensorFlow type ${name} has no DataType`);
  return kiln as DataType;
}

const DTYPE_KEYS = new Set(['dtype', 'keyType', 'rowSplitsDtype']);
/** The report with framework dtype names turned into Kiln's. */
function normalize(value: unknown, toKiln: (n: string) => DataType): unknown {
  if (Array.isArray(value)) return value.map((v) => normalize(v, toKiln));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, DTYPE_KEYS.has(k) ? toKiln(v as string) : normalize(v, toKiln)]),
    );
  }
  return value;
}

interface Report {
  model: string;
  format: 'onnx' | 'savedmodel';
  library: string;
  signatures: Array<{ name: string; method: string; tags: string[]; inputs: unknown[]; outputs: unknown[] }>;
  metadata: Record<string, string>;
  /** SavedModel only: tf.saved_model.load(tags=...) per MetaGraphDef tag set, the signatures it cross-checked or
   * the exception TensorFlow raised loading it. */
  tf_saved_model_load?: Array<{ tags: string[]; checked?: string[]; error?: string }>;
}

function reports(): Array<{ file: string; report: Report }> {
  const out: Array<{ file: string; report: Report }> = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.json')) out.push({ file: path.relative(repoRoot, p), report: JSON.parse(readFileSync(p, 'utf8')) });
    }
  };
  for (const d of ['onnx', 'savedmodel', 'expected']) walk(path.join(fixtures, d));
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

const all = reports();

test('there are reports for the generated fixtures and every third-party tf-serving model', () => {
  const thirdPartyTfServing = path.resolve(repoRoot, 'test/fixtures/third-party/tf-serving');
  const models = new Set(all.map((r) => r.report.model));
  for (const name of readdirSync(thirdPartyTfServing)) assert.ok(models.has(`test/fixtures/third-party/tf-serving/${name}`), name);
  assert.ok(all.filter((r) => r.report.format === 'onnx').length >= 6);
  assert.ok(all.filter((r) => r.report.format === 'savedmodel').length >= 16);
});

/** The models TensorFlow itself cannot load (so only its proto decoding is the reference for them), and why. Any
 * change to this list (a model newly failing, or a TF upgrade fixing one) must be looked at, not skipped. */
const NOT_LOADABLE_BY_TF: Record<string, RegExp> = {
  // The third-party fixture ships without its variables/ files.
  'test/fixtures/third-party/hydrosphere/tensorflow_model [serve]': /^NotFoundError: .*Failed to find any matching files for .*tensorflow_model\/variables\/variables/,
  // Its signatures output a TF1 reference-typed variable, which TF2's loader cannot lift into a function.
  'test/fixtures/third-party/tf-serving/saved_model_counter [serve]': /^InvalidArgumentError: .*has a reference type float_ref/,
  // This TF's shape inference rejects its graph (a scalar where rank 1 is wanted; which op it names first varies
  // from run to run).
  'test/fixtures/third-party/tf-serving/saved_model_half_plus_three [serve]': /^ValueError: Shapes? must be (equal rank, but are 2 and 0|rank 1 but is rank 0 for .*ParseExample)/,
  // It uses an op from a TF add-on library this TF does not have.
  'test/fixtures/third-party/tf-serving/tf_text_regression [serve]': /^RuntimeError: Op type not registered 'ConstrainedSequence'/,
};

test('tf.saved_model.load cross-checked every signature of every tag set, except exactly the expected unloadable models', () => {
  const failed: Record<string, string> = {};
  for (const { report } of all.filter((r) => r.report.format === 'savedmodel')) {
    const tagSets = [...new Set(report.signatures.map((s) => s.tags.join(',')))];
    const load = report.tf_saved_model_load ?? [];
    assert.deepEqual(load.map((l) => l.tags.join(',')), tagSets, `${report.model}: one load per tag set`);
    for (const l of load) {
      if (l.error !== undefined) {
        failed[`${report.model} [${l.tags}]`] = l.error;
        continue;
      }
      const names = report.signatures.filter((s) => s.tags.join(',') === l.tags.join(',')).map((s) => s.name);
      assert.deepEqual(l.checked, names, `${report.model} [${l.tags}]: every signature checked`);
    }
  }
  assert.deepEqual(Object.keys(failed).sort(), Object.keys(NOT_LOADABLE_BY_TF).sort(), 'the models TensorFlow cannot load');
  for (const [k, why] of Object.entries(failed)) assert.match(why, NOT_LOADABLE_BY_TF[k], k);
});

test('the dtype fixture has a placeholder of every DT_ type TensorFlow defines (1-33) and a TF1 reference tensor of each (101-133)', () => {
  const r = all.find((x) => x.report.model === 'test/fixtures/savedmodel/tf1_all_dtypes')!.report;
  const names = (sig: string) => r.signatures.find((s) => s.name === sig)!.inputs.map((f) => (f as { name: string }).name);
  assert.equal(names('placeholders').length, 33);
  assert.ok(names('placeholders').includes('dt_float4_e2m1fn') && names('placeholders').includes('dt_int2'));
  assert.equal(names('refs').length, 33);
});

for (const { file, report } of all) {
  test(`${report.model} matches ${report.library} field by field (${file})`, async () => {
    const format: ContractFormat = report.format === 'onnx' ? onnxFormat : savedModelFormat;
    const files = await localModelFiles(path.resolve(repoRoot, report.model));
    assert.ok(format.detect(await files.list()), 'detected');
    const got = await format.infer(files);
    const expected = normalize(report.signatures, report.format === 'onnx' ? fromOnnxName : fromTfName) as Report['signatures'];
    assert.equal(got.contract.source, report.format);
    assert.deepEqual(
      got.contract.signatures.map((s) => `${s.tags.join(',')}/${s.name}`),
      expected.map((s) => `${s.tags.join(',')}/${s.name}`),
      'signatures',
    );
    got.contract.signatures.forEach((s, i) => {
      const e = expected[i];
      const at = `signature ${e.name} [${e.tags}]`;
      assert.equal(s.method, e.method, `${at}: method`);
      assert.deepEqual(s.tags, e.tags, `${at}: tags`);
      for (const kind of ['inputs', 'outputs'] as const) {
        assert.deepEqual(s[kind].map((f) => f.name), (e[kind] as Array<{ name: string }>).map((f) => f.name), `${at}: ${kind} names`);
        s[kind].forEach((f, j) => assert.deepEqual(f, e[kind][j], `${at}: ${kind}.${f.name}`));
      }
    });
    assert.deepEqual(got.metadata, report.metadata, 'metadata');
  });
}
