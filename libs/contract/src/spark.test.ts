// Tests for the Spark format: contracts of pipelines saved by the real pyspark compared with what the loaded model
// does, Spark's own test models and Hydrosphere's, errors, and fuzzing with damaged metadata.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnError } from '@kiln/errors';
import { localModelFiles } from './local-files';
import { columnsOf, sparkFormat, sqlAliases, type StageMetadata } from './spark';
import type { ModelFiles, RandomAccessFile } from './source';
import type { DataType, Field, InferenceResult } from './types';
import { mutateJson, prng } from './wire-testing';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ownFixtures = path.join(repoRoot, 'test/fixtures/spark');
const thirdParty = path.resolve(repoRoot, 'test/fixtures/third-party');

/** Model files held in memory (so that the fuzz cases can damage them). */
function memoryFiles(files: Record<string, Buffer>): ModelFiles {
  return {
    async list() {
      return Object.keys(files).sort().map((p) => ({ path: p, size: files[p].length }));
    },
    async open(p: string): Promise<RandomAccessFile> {
      const data = files[p];
      if (!data) throw new KilnError('NOT_FOUND', 'no such file', p);
      return { path: p, size: data.length, read: async (o, l) => Buffer.from(data.subarray(o, o + l)) };
    },
  };
}

/** The metadata files of a saved model on disk (parquet data is never read, so it is left out). */
function metadataFiles(dir: string, rel = '', out: Record<string, Buffer> = {}): Record<string, Buffer> {
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) metadataFiles(dir, r, out);
    else if (/(^|\/)metadata\/part-/.test(r)) out[r] = readFileSync(path.join(dir, r));
  }
  return out;
}

async function infer(dir: string): Promise<InferenceResult> {
  return sparkFormat.infer(await localModelFiles(dir));
}

/** Field summary: name, dtype and per-row shape (null for unknown rank). */
function summary(f: Field): [string, DataType | string, number[] | null] {
  if (f.type !== 'tensor') return [f.name, f.type, null];
  return [f.name, f.tensor.dtype, f.tensor.shape ? f.tensor.shape.dims.map((d) => d.size) : null];
}

/** A Spark SQL type as Kiln represents a column of it. */
function kilnTypeOf(sparkType: string): [DataType, number[]] {
  switch (sparkType) {
    case 'double': return ['DATA_TYPE_DOUBLE', []];
    case 'int': return ['DATA_TYPE_INT32', []];
    case 'float': return ['DATA_TYPE_FLOAT', []];
    case 'string': return ['DATA_TYPE_STRING', []];
    case 'array<string>': return ['DATA_TYPE_STRING', [-1]];
    case 'vector': return ['DATA_TYPE_DOUBLE', [-1]];
    default: throw new Error(`no Kiln type for Spark type ${sparkType}`);
  }
}

interface ExpectedColumn {
  type: string;
  size?: number | null;
}

/** A Kiln field against the real column: the same dtype and rank, and a vector's size unless Kiln says unknown
 * (-1: the size is in the parquet data, not in the metadata). */
function assertSameColumn(field: Field, name: string, expected: ExpectedColumn, where: string) {
  // Optional columns (RFormula's response and label, present only when the data has the response) hold the same type.
  const actual = (field.type === 'optional' ? { name: field.name, profile: field.profile, ...field.optional.elementType } : field) as Field;
  const [n, dtype, shape] = summary(actual);
  assert.equal(n, name, `${where}: name`);
  const [wantType, wantShape] = kilnTypeOf(expected.type);
  assert.equal(dtype, wantType, `${where} ${name}: dtype for Spark ${expected.type}`);
  assert.ok(shape, `${where} ${name}: rank is known`);
  assert.equal(shape.length, wantShape.length, `${where} ${name}: rank`);
  if (expected.type === 'vector' && shape[0] !== -1) assert.equal(shape[0], expected.size, `${where} ${name}: vector size`);
}

const generated = existsSync(ownFixtures) ? readdirSync(ownFixtures).sort() : [];

for (const dir of generated) {
  test(`spark ${dir}: columns match what the pipeline saved by pyspark reads and writes`, async () => {
    const expected = JSON.parse(readFileSync(path.join(ownFixtures, dir, 'expected.json'), 'utf8'));
    const result = await infer(path.join(ownFixtures, dir, 'model'));
    assert.equal(result.contract.source, 'spark');
    assert.equal(result.contract.signatures.length, 1);
    const [sig] = result.contract.signatures;
    // Inputs: exactly the columns without which the loaded model refused to transform.
    assert.deepEqual(sig.inputs.map((f) => f.name).sort(), Object.keys(expected.inputColumns).sort(), 'input names');
    for (const f of sig.inputs) assertSameColumn(f, f.name, expected.inputColumns[f.name], 'input');
    // Outputs: the columns the transform added, in order.
    assert.deepEqual(sig.outputs.map((f) => f.name), Object.keys(expected.outputColumns), 'output names');
    for (const f of sig.outputs) assertSameColumn(f, f.name, expected.outputColumns[f.name], 'output');
    assert.equal(result.metadata['spark.version'], expected.sparkVersion);
    // Short names: pyspark saves a pipeline holding a nested one under its Python class name
    // (pyspark.ml.pipeline.PipelineModel), which Kiln reports as written.
    assert.equal(result.metadata['spark.class'].split('.').pop(), expected.class.split('.').pop());
    assert.equal(
      result.metadata['spark.stages'],
      expected.stages.map((s: { class: string }) => s.class.split('.').pop()).join(','),
    );
  });
}

test('spark Hydrosphere pipeline (Spark 2.1, paramMap only): StringIndexer, StandardScaler, RandomForest, IndexToString', async () => {
  const result = await infer(path.join(thirdParty, 'hydrosphere/spark_model'));
  const [sig] = result.contract.signatures;
  // From the stages' metadata files: item_yn and features are read before anything produces them.
  assert.deepEqual(sig.inputs.map(summary), [
    ['item_yn', 'DATA_TYPE_STRING', []],
    ['features', 'DATA_TYPE_DOUBLE', [-1]],
  ]);
  // numClasses 2 is in the forest's metadata; the scaler's input size is not.
  assert.deepEqual(sig.outputs.map(summary), [
    ['indexedLabel', 'DATA_TYPE_DOUBLE', []],
    ['scaledFeatures', 'DATA_TYPE_DOUBLE', [-1]],
    ['rawPrediction', 'DATA_TYPE_DOUBLE', [2]],
    ['probability', 'DATA_TYPE_DOUBLE', [2]],
    ['prediction', 'DATA_TYPE_DOUBLE', []],
    ['predictionLabel', 'DATA_TYPE_STRING', []],
  ]);
  assert.equal(sig.name, 'PipelineModel_4ccbbca3d107857d3ed8');
  assert.deepEqual(result.metadata, {
    'spark.version': '2.1.1',
    'spark.class': 'org.apache.spark.ml.PipelineModel',
    'spark.stages': 'StringIndexerModel,StandardScalerModel,RandomForestClassificationModel,IndexToString',
  });
});

/** Spark's own test models (single saved stages): expectations from each metadata file's params and fields. */
const SPARK_TEST_MODELS: Record<string, { inputs: unknown[]; outputs: unknown[] }> = {
  'dtc-2.4.7': {
    inputs: [['features', 'DATA_TYPE_DOUBLE', [692]]],
    outputs: [['rawPrediction', 'DATA_TYPE_DOUBLE', [2]], ['probability', 'DATA_TYPE_DOUBLE', [2]], ['prediction', 'DATA_TYPE_DOUBLE', []]],
  },
  'rfc-2.4.7': {
    inputs: [['features', 'DATA_TYPE_DOUBLE', [692]]],
    outputs: [['rawPrediction', 'DATA_TYPE_DOUBLE', [2]], ['probability', 'DATA_TYPE_DOUBLE', [2]], ['prediction', 'DATA_TYPE_DOUBLE', []]],
  },
  // GBT classification is binary: two classes although the metadata has no numClasses.
  'gbtc-2.4.7': {
    inputs: [['features', 'DATA_TYPE_DOUBLE', [692]]],
    outputs: [['rawPrediction', 'DATA_TYPE_DOUBLE', [2]], ['probability', 'DATA_TYPE_DOUBLE', [2]], ['prediction', 'DATA_TYPE_DOUBLE', []]],
  },
  'dtr-2.4.7': { inputs: [['features', 'DATA_TYPE_DOUBLE', [692]]], outputs: [['prediction', 'DATA_TYPE_DOUBLE', []]] },
  'rfr-2.4.7': { inputs: [['features', 'DATA_TYPE_DOUBLE', [692]]], outputs: [['prediction', 'DATA_TYPE_DOUBLE', []]] },
  'gbtr-2.4.7': { inputs: [['features', 'DATA_TYPE_DOUBLE', [692]]], outputs: [['prediction', 'DATA_TYPE_DOUBLE', []]] },
  'kmeans-3.0.3': { inputs: [['features', 'DATA_TYPE_DOUBLE', [-1]]], outputs: [['prediction', 'DATA_TYPE_INT32', []]] },
  'mlp-2.4.4': {
    inputs: [['features', 'DATA_TYPE_DOUBLE', [-1]]],
    outputs: [['rawPrediction', 'DATA_TYPE_DOUBLE', [-1]], ['probability', 'DATA_TYPE_DOUBLE', [-1]], ['prediction', 'DATA_TYPE_DOUBLE', []]],
  },
  'hashingTF-2.4.4': { inputs: [['words', 'DATA_TYPE_STRING', [-1]]], outputs: [['features', 'DATA_TYPE_DOUBLE', [100]]] },
  'strIndexerModel-2.4.4': { inputs: [['myInputCol', 'DATA_TYPE_STRING', []]], outputs: [['myOutputCol', 'DATA_TYPE_DOUBLE', []]] },
  'chisq-3.0.0': { inputs: [['features', 'DATA_TYPE_DOUBLE', [-1]]], outputs: [['myModel__output', 'DATA_TYPE_DOUBLE', [-1]]] },
  // RFormulaModel "id ~ a:b": its inner pipeline indexes a and b, interacts them and assembles the features; the
  // ColumnPruner drops the temporary columns, leaving the features. The response id becomes the optional label.
  'rFormulaModel-2.4.4': {
    inputs: [['a', 'DATA_TYPE_STRING', []], ['b', 'DATA_TYPE_STRING', []], ['id', 'optional', null]],
    outputs: [['features', 'DATA_TYPE_DOUBLE', [-1]], ['label', 'optional', null]],
  },
};

for (const [name, want] of Object.entries(SPARK_TEST_MODELS)) {
  test(`spark ${name} (Spark's test model): contract from its metadata params`, async () => {
    const result = await infer(path.join(thirdParty, 'spark', name));
    const [sig] = result.contract.signatures;
    assert.deepEqual(sig.inputs.map(summary), want.inputs);
    assert.deepEqual(sig.outputs.map(summary), want.outputs);
    const top = JSON.parse(readFileSync(path.join(thirdParty, 'spark', name, 'metadata/part-00000'), 'utf8'));
    assert.equal(result.metadata['spark.version'], top.sparkVersion);
    assert.equal(result.metadata['spark.class'], top.class);
  });
}

test('spark rformula_lr: the formula\'s response and the label RFormula makes of it are optional columns', async () => {
  const [sig] = (await infer(path.join(ownFixtures, 'rformula_lr/model'))).contract.signatures;
  assert.deepEqual(sig.inputs.filter((f) => f.type === 'optional').map((f) => f.name), ['label']);
  assert.deepEqual(sig.outputs.filter((f) => f.type === 'optional').map((f) => f.name), ['rf_label']);
});

test('spark rFormulaModel-2.4.4: spark.stages lists the inner pipeline stages in order', async () => {
  const result = await infer(path.join(thirdParty, 'spark/rFormulaModel-2.4.4'));
  assert.equal(
    result.metadata['spark.stages'],
    'StringIndexerModel,StringIndexerModel,Interaction,VectorAssembler,VectorAttributeRewriter,ColumnPruner',
  );
});

test('spark detect: metadata/part-* at the top or in one folder; not other models', () => {
  assert.ok(sparkFormat.detect([{ path: 'metadata/part-00000', size: 10 }]));
  assert.ok(sparkFormat.detect([{ path: 'm/metadata/part-00000-abc-c000.txt', size: 10 }]));
  assert.ok(!sparkFormat.detect([{ path: 'a/b/metadata/part-00000', size: 10 }]));
  assert.ok(!sparkFormat.detect([{ path: 'model.onnx', size: 10 }]));
});

async function rejection(files: ModelFiles): Promise<KilnError> {
  const err = await sparkFormat.infer(files).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof KilnError, `not a KilnError: ${err}`);
  return err;
}

test('spark: corrupt stage JSON is INVALID_ARGUMENT naming the metadata file', async () => {
  const files = metadataFiles(path.join(thirdParty, 'hydrosphere/spark_model'));
  const stage = Object.keys(files).find((p) => p.includes('StandardScaler'))!;
  files[stage] = files[stage].subarray(0, 40);
  const err = await rejection(memoryFiles(files));
  assert.equal(err.code, 'INVALID_ARGUMENT');
  assert.equal(err.location, stage);
});

test('spark: a stage listed in stageUids without its folder is INVALID_ARGUMENT', async () => {
  const files = metadataFiles(path.join(thirdParty, 'hydrosphere/spark_model'));
  for (const p of Object.keys(files)) if (p.includes('rfc_')) delete files[p];
  const err = await rejection(memoryFiles(files));
  assert.equal(err.code, 'INVALID_ARGUMENT');
  assert.match(err.message, /rfc_4a2fabff3e6e/);
});

test('spark: an unknown stage class gives its columns with unknown type and rank, not an error', async () => {
  const files = metadataFiles(path.join(thirdParty, 'hydrosphere/spark_model'));
  const stage = Object.keys(files).find((p) => p.includes('StandardScaler'))!;
  files[stage] = Buffer.from(files[stage].toString().replace('feature.StandardScalerModel', 'feature.SomeFutureModel'));
  const [sig] = (await sparkFormat.infer(memoryFiles(files))).contract.signatures;
  assert.deepEqual(summary(sig.outputs.find((f) => f.name === 'scaledFeatures')!), ['scaledFeatures', 'DATA_TYPE_UNSPECIFIED', null]);
  assert.deepEqual(summary(sig.inputs.find((f) => f.name === 'features')!), ['features', 'DATA_TYPE_UNSPECIFIED', null]);
});

/** A saved stage as columnsOf sees it (the fields the readers fill from metadata JSON). */
const stage = (className: string, params: Record<string, unknown>): StageMetadata => ({
  dir: '', className: `org.apache.spark.ml.${className}`, uid: className, sparkVersion: '3.5.0', params, extra: {},
});
const kinds = (fields: Field[]) => fields.map((f) => [f.name, f.type === 'tensor' ? f.tensor.dtype : f.type, f.type === 'tensor' ? f.tensor.shape?.dims.length ?? null : null]);

test('spark: a single decision tree classifier\'s leafCol is a double (a forest\'s is a vector per tree)', () => {
  const tree = columnsOf([stage('classification.DecisionTreeClassificationModel', { featuresCol: 'f', leafCol: 'leaf', numClasses: 2 })]);
  assert.deepEqual(kinds(tree.outputs).find(([n]) => n === 'leaf'), ['leaf', 'DATA_TYPE_DOUBLE', 0]);
  const forest = columnsOf([stage('classification.RandomForestClassificationModel', { featuresCol: 'f', leafCol: 'leaf', numTrees: 5 })]);
  assert.deepEqual(kinds(forest.outputs).find(([n]) => n === 'leaf'), ['leaf', 'DATA_TYPE_DOUBLE', 1]);
});

test('spark: columns an SQLTransformer makes in its select list are not model inputs', () => {
  const { inputs, outputs } = columnsOf([
    stage('feature.SQLTransformer', { statement: 'SELECT *, (v1 + v2) AS v3, v1 * 2 v4, concat(a, ",", b) `v 5` FROM __THIS__' }),
    stage('feature.VectorAssembler', { inputCols: ['v1', 'v3', 'v4', 'v 5'], outputCol: 'features' }),
  ]);
  assert.deepEqual(inputs.map((f) => f.name), ['v1']);
  assert.deepEqual(outputs.map((f) => f.name), ['v3', 'v4', 'v 5', 'features']);
  assert.deepEqual(sqlAliases('SELECT DISTINCT a, b, count(c) FROM __THIS__ GROUP BY a, b'), []);
  assert.deepEqual(sqlAliases('SELECT * FROM (SELECT a AS b FROM __THIS__)'), []);
  assert.deepEqual(sqlAliases(42), []);
});

test('spark fuzz: 400 damaged metadata sets end in KilnError or a valid contract, quickly', async () => {
  const bases = [
    metadataFiles(path.join(thirdParty, 'hydrosphere/spark_model')),
    metadataFiles(path.join(thirdParty, 'spark/rFormulaModel-2.4.4')),
    ...generated.slice(0, 4).map((d) => metadataFiles(path.join(ownFixtures, d, 'model'))),
  ];
  const rand = prng(42);
  const outcomes = { ok: 0, rejected: 0 };
  for (let i = 0; i < 400; i++) {
    const files = { ...bases[i % bases.length] };
    const paths = Object.keys(files);
    const target = paths[Math.floor(rand() * paths.length)];
    const bytes = files[target];
    const mode = i % 4;
    if (mode === 0) files[target] = bytes.subarray(0, Math.floor(rand() * bytes.length));
    else if (mode === 1) {
      const copy = Buffer.from(bytes);
      for (let f = 0; f < 1 + rand() * 4; f++) copy[Math.floor(rand() * copy.length)] = Math.floor(rand() * 256);
      files[target] = copy;
    } else if (mode === 2) {
      files[target] = Buffer.from(JSON.stringify(mutateJson(JSON.parse(bytes.toString()), rand)));
    } else {
      delete files[target];
    }
    const started = Date.now();
    try {
      const result = await sparkFormat.infer(memoryFiles(files));
      assert.equal(result.contract.signatures.length, 1);
      outcomes.ok++;
    } catch (err) {
      assert.ok(err instanceof KilnError, `case ${i} (${target}): not a KilnError: ${(err as Error)?.stack ?? err}`);
      outcomes.rejected++;
    }
    assert.ok(Date.now() - started < 1000, `case ${i} took ${Date.now() - started} ms`);
  }
  assert.ok(outcomes.ok > 0 && outcomes.rejected > 0, JSON.stringify(outcomes));
});
