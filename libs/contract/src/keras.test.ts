// Tests for the Keras format: contracts of real .keras and .h5 files compared with what Keras itself says, lazy
// reads, errors, and fuzzing with damaged files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { KilnError } from '@kiln/errors';
import { kerasFormat, contractFromConfig } from './keras';
import type { ModelFiles, RandomAccessFile } from './source';
import type { DataType, Field } from './types';
import { mutateJson, prng } from './wire-testing';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ownFixtures = path.join(repoRoot, 'test/fixtures/keras');
const thirdParty = path.resolve(repoRoot, 'test/fixtures/third-party');

/** Model files held in memory, counting the bytes read (the test's own ModelFiles, no library module). */
function memoryFiles(files: Record<string, Buffer>) {
  const stats = { bytesRead: 0 };
  const model: ModelFiles = {
    async list() {
      return Object.keys(files).sort().map((p) => ({ path: p, size: files[p].length }));
    },
    async open(p: string): Promise<RandomAccessFile> {
      const data = files[p];
      if (!data) throw new KilnError('NOT_FOUND', 'no such file', p);
      return {
        path: p,
        size: data.length,
        async read(offset, length) {
          const out = data.subarray(offset, Math.min(data.length, offset + length));
          stats.bytesRead += out.length;
          return Buffer.from(out);
        },
      };
    },
  };
  return { model, stats };
}

const KERAS_DTYPES: Record<string, DataType> = {
  float32: 'DATA_TYPE_FLOAT',
  float64: 'DATA_TYPE_DOUBLE',
  int32: 'DATA_TYPE_INT32',
  float16: 'DATA_TYPE_FLOAT16',
};

interface ExpectedTensor {
  name: string;
  shape: number[];
  dtype: string;
}

/** A Kiln field against what the loaded Keras model said about the same tensor. */
function assertSameTensor(actual: Field, expected: ExpectedTensor, where: string) {
  assert.equal(actual.name, expected.name, `${where}: name`);
  assert.equal(actual.type, 'tensor', `${where}: type`);
  if (actual.type !== 'tensor') return;
  assert.equal(actual.tensor.dtype, KERAS_DTYPES[expected.dtype], `${where}: dtype ${expected.dtype}`);
  assert.deepEqual(actual.tensor.shape?.dims.map((d) => d.size), expected.shape, `${where}: shape`);
}

async function inferFile(file: string) {
  const bytes = await fs.readFile(file);
  const { model, stats } = memoryFiles({ [path.basename(file)]: bytes });
  return { result: await kerasFormat.infer(model), stats, size: bytes.length };
}

// Every generated Keras file with what Keras said about it (nosig_savedmodel is a SavedModel for the merge tests).
const generated = readdirSync(ownFixtures).filter((d) => !d.startsWith('third_party_') && existsSync(path.join(ownFixtures, d, 'expected.json')));

for (const dir of generated) {
  test(`keras ${dir}: inputs and outputs match what the real Keras reports after loading the file`, async () => {
    const expected = JSON.parse(readFileSync(path.join(ownFixtures, dir, 'expected.json'), 'utf8'));
    const file = readdirSync(path.join(ownFixtures, dir)).find((f) => f.startsWith('model.'))!;
    const { result } = await inferFile(path.join(ownFixtures, dir, file));
    const [sig] = result.contract.signatures;
    assert.equal(result.contract.source, 'keras');
    assert.equal(result.contract.signatures.length, 1);
    assert.equal(sig.inputs.length, expected.inputs.length, 'input count');
    assert.equal(sig.outputs.length, expected.outputs.length, 'output count');
    expected.inputs.forEach((e: ExpectedTensor, i: number) => assertSameTensor(sig.inputs[i], e, `inputs[${i}]`));
    expected.outputs.forEach((e: ExpectedTensor, i: number) => assertSameTensor(sig.outputs[i], e, `outputs[${i}]`));
    assert.equal(result.metadata['keras.format'], file.endsWith('.keras') ? 'keras' : 'h5');
  });
}

for (const dir of ['third_party_functional', 'third_party_sequential']) {
  test(`keras ${dir}: the Hydrosphere Keras 2 model's contract matches what tf_keras reports`, async () => {
    const expected = JSON.parse(readFileSync(path.join(ownFixtures, dir, 'expected.json'), 'utf8'));
    const { result, stats, size } = await inferFile(path.join(thirdParty, expected.file));
    const [sig] = result.contract.signatures;
    assert.equal(sig.inputs.length, expected.inputs.length);
    assert.equal(sig.outputs.length, expected.outputs.length);
    expected.inputs.forEach((e: ExpectedTensor, i: number) => assertSameTensor(sig.inputs[i], e, `inputs[${i}]`));
    expected.outputs.forEach((e: ExpectedTensor, i: number) => assertSameTensor(sig.outputs[i], e, `outputs[${i}]`));
    assert.equal(result.metadata['keras.backend'], 'tensorflow');
    assert.match(result.metadata['keras.version'], /^2\./);
    // The weights are not read: only the HDF5 pages holding the root group's metadata.
    assert.ok(stats.bytesRead < size / 2, `read ${stats.bytesRead} of ${size} bytes`);
  });
}

test('keras .keras archive: only the zip directory and the JSON entries are read, not the weights', async () => {
  // The real archive's JSON entries beside 4 MiB of weights: yauzl reads at most the last 64 KiB (to find the end of
  // the central directory), the directory and the config; the weights are never read.
  const real = await fs.readFile(path.join(ownFixtures, 'k3_functional_keras/model.keras'));
  const zip = storedZip({
    'metadata.json': await zipEntry(real, 'metadata.json'),
    'config.json': await zipEntry(real, 'config.json'),
    'model.weights.h5': Buffer.alloc(4 << 20, 7),
  });
  const { model, stats } = memoryFiles({ 'model.keras': zip });
  const result = await kerasFormat.infer(model);
  assert.equal(result.contract.signatures[0].name, 'multi_io');
  assert.equal(result.contract.signatures[0].inputs.length, 3);
  assert.match(result.metadata['keras.version'], /^3\./);
  assert.ok(stats.bytesRead < 256 * 1024, `read ${stats.bytesRead} of ${zip.length} bytes`);
});

/** One entry of a zip held in memory (test-side, through yauzl's buffer reader). */
async function zipEntry(zip: Buffer, name: string): Promise<Buffer> {
  const archive = await yauzl.fromBufferPromise(zip, { lazyEntries: true });
  try {
    for await (const entry of archive.eachEntry()) {
      if (entry.fileName !== name) continue;
      const chunks: Buffer[] = [];
      for await (const c of await archive.openReadStreamPromise(entry)) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    }
  } finally {
    archive.close();
  }
  throw new Error(`no ${name} in the archive`);
}

test('keras detect: .keras and .h5 files count, weights-only .weights.h5 files do not', () => {
  assert.ok(kerasFormat.detect([{ path: 'model.keras', size: 10 }]));
  assert.ok(kerasFormat.detect([{ path: 'm/model.h5', size: 10 }]));
  assert.ok(!kerasFormat.detect([{ path: 'model.weights.h5', size: 10 }]));
  assert.ok(!kerasFormat.detect([{ path: 'saved_model.pb', size: 10 }, { path: 'variables/variables.index', size: 1 }]));
});

/** A zip of stored (uncompressed) entries, enough to build damaged .keras archives. */
function storedZip(entries: Record<string, Buffer>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(entries)) {
    const nameBuf = Buffer.from(name);
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, data);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

async function rejection(model: ModelFiles): Promise<KilnError> {
  const err = await kerasFormat.infer(model).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof KilnError, `not a KilnError: ${err}`);
  return err;
}

test('keras: corrupt config.json is INVALID_ARGUMENT at <file>:config.json', async () => {
  const zip = storedZip({ 'config.json': Buffer.from('{"class_name": "Functional", "config": {') });
  const err = await rejection(memoryFiles({ 'model.keras': zip }).model);
  assert.equal(err.code, 'INVALID_ARGUMENT');
  assert.equal(err.location, 'model.keras:config.json');
});

test('keras: an archive without config.json, a non-zip .keras and a non-HDF5 .h5 are INVALID_ARGUMENT', async () => {
  for (const [name, data] of [
    ['model.keras', storedZip({ 'metadata.json': Buffer.from('{}') })],
    ['model.keras', Buffer.from('not a zip at all, just text')],
    ['model.h5', Buffer.from('not an hdf5 file either')],
  ] as const) {
    const err = await rejection(memoryFiles({ [name]: data }).model);
    assert.equal(err.code, 'INVALID_ARGUMENT', err.message);
    assert.equal(err.location, name);
  }
});

test('keras: an HDF5 file without model_config (weights only) is INVALID_ARGUMENT', async () => {
  // The .keras archive's own model.weights.h5 is a real HDF5 file with weights and no model_config.
  const keras = await fs.readFile(path.join(ownFixtures, 'k3_sequential_keras/model.keras'));
  const weights = await zipEntry(keras, 'model.weights.h5');
  const err = await rejection(memoryFiles({ 'weights.h5': weights }).model);
  assert.equal(err.code, 'INVALID_ARGUMENT');
  assert.match(err.message, /model_config/);
});

test('keras config: a subclassed model (no layers) is INVALID_ARGUMENT naming the config', () => {
  assert.throws(
    () => contractFromConfig({ class_name: 'MyModel', config: { name: 'x' } }, 'm.keras:config.json'),
    (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && e.location === 'm.keras:config.json',
  );
});

test('keras config: Dense after a layer of unknown output shape has unknown rank, not an assumed batch of vectors', () => {
  // Keras 2 Sequential: a custom layer (no shape rule) then Dense; its output rank depends on the custom layer.
  const config = {
    class_name: 'Sequential',
    config: {
      name: 's',
      layers: [
        { class_name: 'MyLayer', config: { name: 'mine', batch_input_shape: [null, 5, 2], dtype: 'float32' } },
        { class_name: 'Dense', config: { name: 'out', units: 4, dtype: 'float32' } },
      ],
    },
  };
  const { contract, metadata } = contractFromConfig(config, 'm.h5:model_config');
  const out = contract.signatures[0].outputs[0];
  assert.equal(out.type === 'tensor' && out.tensor.shape, null);
  assert.equal(metadata['keras.class'], 'Sequential');
});

test('keras .h5: metadata keeps the model class beside the file format and Keras version', async () => {
  const { result } = await inferFile(path.join(ownFixtures, 'k2_lstm_seq_h5/model.h5'));
  assert.equal(result.metadata['keras.class'], 'Sequential');
  assert.equal(result.metadata['keras.format'], 'h5');
  assert.match(result.metadata['keras.version'], /^2\./);
});

/** Truncations and byte mutations of a real file: each case ends in a KilnError or a valid contract. */
async function fuzz(file: string, name: string, cases: number, seed: number, hotBytes: number) {
  const original = await fs.readFile(file);
  const rand = prng(seed);
  const outcomes = { ok: 0, rejected: 0 };
  for (let i = 0; i < cases; i++) {
    let data: Buffer;
    if (i % 3 === 0) {
      data = original.subarray(0, Math.floor(rand() * original.length));
    } else {
      data = Buffer.from(original);
      const flips = 1 + Math.floor(rand() * 8);
      // Mutations land mostly where the metadata is (the first bytes for HDF5, the end for a zip's directory).
      for (let f = 0; f < flips; f++) {
        const span = Math.min(hotBytes, data.length);
        const at = rand() < 0.8 ? Math.floor(rand() * span) : Math.floor(rand() * data.length);
        data[name.endsWith('.keras') ? data.length - 1 - at : at] = Math.floor(rand() * 256);
      }
    }
    const started = Date.now();
    try {
      const result = await kerasFormat.infer(memoryFiles({ [name]: data }).model);
      assert.equal(result.contract.signatures.length, 1);
      outcomes.ok++;
    } catch (err) {
      assert.ok(err instanceof KilnError, `case ${i}: not a KilnError: ${(err as Error)?.stack ?? err}`);
      // HDF5's own error stack names source files of the wasm build: the message says what failed, in the file.
      assert.doesNotMatch(err.message, /hdf5-src|__w\/|#0\d\d:/, `case ${i}`);
      assert.equal(err.location?.split(':')[0], name, `case ${i}: location ${err.location}`);
      outcomes.rejected++;
    }
    assert.ok(Date.now() - started < 5000, `case ${i} took ${Date.now() - started} ms`);
  }
  return outcomes;
}

test('keras fuzz: 300 truncated or mutated .keras archives end in KilnError or a valid contract', async () => {
  const outcomes = await fuzz(path.join(ownFixtures, 'k3_functional_keras/model.keras'), 'model.keras', 300, 7, 4096);
  assert.ok(outcomes.rejected > 0 && outcomes.ok > 0, JSON.stringify(outcomes));
});

test('keras fuzz: 300 truncated or mutated .h5 files end in KilnError or a valid contract', async () => {
  const outcomes = await fuzz(path.join(ownFixtures, 'k3_functional_h5/model.h5'), 'model.h5', 300, 11, 8192);
  assert.ok(outcomes.rejected > 0 && outcomes.ok > 0, JSON.stringify(outcomes));
  // The wasm HDF5 library still works after all that damage.
  const { result } = await inferFile(path.join(ownFixtures, 'k2_sequential_h5/model.h5'));
  assert.equal(result.contract.signatures[0].outputs[0].name, 'probs');
});

test('keras fuzz: 400 configs (Keras 2 and 3) with values of the wrong type end in KilnError or a contract', async () => {
  const configs = [
    JSON.parse((await zipEntry(await fs.readFile(path.join(ownFixtures, 'k3_functional_keras/model.keras')), 'config.json')).toString()),
    JSON.parse((await zipEntry(await fs.readFile(path.join(ownFixtures, 'k3_sequential_keras/model.keras')), 'config.json')).toString()),
    JSON.parse((await zipEntry(await fs.readFile(path.join(ownFixtures, 'k2_functional_keras/model.keras')), 'config.json')).toString()),
  ];
  const rand = prng(3);
  const outcomes = { ok: 0, rejected: 0 };
  for (let i = 0; i < 400; i++) {
    let config = configs[i % configs.length];
    for (let m = 0; m < 1 + Math.floor(rand() * 3); m++) config = mutateJson(config, rand);
    try {
      const { contract } = contractFromConfig(config, 'config.json');
      assert.equal(contract.signatures.length, 1);
      outcomes.ok++;
    } catch (err) {
      assert.ok(err instanceof KilnError, `case ${i}: not a KilnError: ${(err as Error)?.stack ?? err}`);
      outcomes.rejected++;
    }
  }
  assert.ok(outcomes.ok > 0 && outcomes.rejected > 0, JSON.stringify(outcomes));
});

test('a .keras whose bytes cannot be read (the blob store unavailable) fails with the read\'s error, not as a bad zip', async () => {
  const down = new KilnError('UNAVAILABLE', 'the blob store is unavailable (connect ECONNREFUSED); try again later');
  const real = await fs.readFile(path.join(ownFixtures, 'k3_functional_keras/model.keras'));
  const model: ModelFiles = {
    async list() {
      return [{ path: 'model.keras', size: real.length }];
    },
    async open(p: string): Promise<RandomAccessFile> {
      return { path: p, size: real.length, read: async () => { throw down; } };
    },
  };
  await assert.rejects(kerasFormat.infer(model), (err) => err === down);
});
