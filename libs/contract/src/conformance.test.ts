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

test('there are reports for the generated fixtures and every shared tf-serving model', () => {
  const sharedTfServing = path.resolve(repoRoot, '../shared/fixtures/tf-serving');
  const models = new Set(all.map((r) => r.report.model));
  for (const name of readdirSync(sharedTfServing)) assert.ok(models.has(`../shared/fixtures/tf-serving/${name}`), name);
  assert.ok(all.filter((r) => r.report.format === 'onnx').length >= 6);
  assert.ok(all.filter((r) => r.report.format === 'savedmodel').length >= 16);
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
