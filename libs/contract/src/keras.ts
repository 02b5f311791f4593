// Keras contracts: inputs and outputs from a `.keras` archive's config.json or a legacy `.h5` file's model_config.
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { KilnError } from '@kiln/errors';
import type { ContractFormat, FileEntry } from './format';
import type { ModelFiles, RandomAccessFile } from './source';
import { dim, field, tensor, type DataType, type Dim, type Field, type InferenceResult } from './types';

/** Larger configs are not model configs (a large model's config.json is a few MB). */
const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

export const kerasFormat: ContractFormat = {
  name: 'keras',
  detect: (files) => kerasModelFiles(files).length > 0,
  async infer(files: ModelFiles): Promise<InferenceResult> {
    const entry = pickModelFile(await files.list());
    if (!entry) throw new KilnError('INVALID_ARGUMENT', 'no .keras or .h5 file in the model');
    const file = await files.open(entry);
    const loaded = entry.endsWith('.keras') ? await readKerasArchive(file) : await readH5Config(file);
    const { contract, metadata } = contractFromConfig(loaded.config, loaded.location);
    return { contract, metadata: { ...loaded.metadata, ...metadata } };
  },
};

/** Every file that could be the Keras model: `.keras` archives and `.h5`/`.hdf5` files other than weights-only
 * `.weights.h5` files. inferContract refuses several (which one would be served?); infer() takes the only one. */
export function kerasModelFiles(files: FileEntry[]): string[] {
  return files.filter((f) => /\.(keras|h5|hdf5)$/.test(f.path) && !/\.weights\.h5$/.test(f.path)).map((f) => f.path);
}

function pickModelFile(files: FileEntry[]): string | undefined {
  const found = kerasModelFiles(files);
  if (found.length > 1) throw new KilnError('INVALID_ARGUMENT', `several Keras model files: ${found.join(', ')}`);
  return found[0];
}

interface LoadedConfig {
  config: unknown;
  /** Where the config came from, for error messages. */
  location: string;
  metadata: Record<string, string>;
}

// ------------------------------------------------------------------------------------------------ .keras (zip)

/** yauzl's reader over a RandomAccessFile: the zip's central directory and one entry are all that is read. */
class RandomAccessZipReader extends yauzl.RandomAccessReader {
  constructor(private readonly file: RandomAccessFile) {
    super();
  }

  _readStreamForRange(start: number, end: number): Readable {
    const file = this.file;
    let pos = start;
    return new Readable({
      async read() {
        if (pos >= end) return void this.push(null);
        try {
          const buf = await file.read(pos, Math.min(end - pos, 1 << 20));
          if (buf.length === 0) return void this.destroy(new Error(`unexpected end of file at offset ${pos}`));
          pos += buf.length;
          this.push(buf);
        } catch (err) {
          this.destroy(err as Error);
        }
      },
    });
  }
}

async function readKerasArchive(file: RandomAccessFile): Promise<LoadedConfig> {
  const bad = (message: string, cause?: unknown) =>
    new KilnError('INVALID_ARGUMENT', message, file.path, cause ? { cause } : undefined);
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromRandomAccessReaderPromise(new RandomAccessZipReader(file), file.size, {
      lazyEntries: true,
      autoClose: false,
    });
  } catch (err) {
    if (err instanceof KilnError) throw err; // a read that failed (the blob store unavailable), not a bad zip
    throw bad(`not a zip archive: ${(err as Error).message}`, err);
  }
  try {
    const metadata: Record<string, string> = { 'keras.format': 'keras' };
    let configText: string | undefined;
    try {
      for await (const entry of zip.eachEntry()) {
        // Only the two small JSON entries are read: never the weights.
        if (entry.fileName !== 'config.json' && entry.fileName !== 'metadata.json') continue;
        if (entry.uncompressedSize > MAX_CONFIG_BYTES) throw bad(`${entry.fileName} is larger than ${MAX_CONFIG_BYTES} bytes`);
        const text = await readEntry(zip, entry);
        if (entry.fileName === 'config.json') configText = text;
        else Object.assign(metadata, archiveMetadata(text));
      }
    } catch (err) {
      if (err instanceof KilnError) throw err;
      throw bad(`corrupt zip archive: ${(err as Error).message}`, err);
    }
    if (configText === undefined) throw bad('no config.json in the .keras archive');
    return { config: parseJson(configText, `${file.path}:config.json`), location: `${file.path}:config.json`, metadata };
  } finally {
    zip.close();
  }
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<string> {
  const stream = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    // The central directory's size can lie in a damaged archive: cap what is inflated, not what is declared.
    if (total > MAX_CONFIG_BYTES) {
      stream.destroy();
      throw new Error(`${entry.fileName} inflates past ${MAX_CONFIG_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** metadata.json of a .keras archive: the Keras version that saved it (optional, so bad content is ignored). */
function archiveMetadata(text: string): Record<string, string> {
  try {
    const m = JSON.parse(text) as Record<string, unknown>;
    return typeof m.keras_version === 'string' ? { 'keras.version': m.keras_version } : {};
  } catch {
    return {};
  }
}

// ------------------------------------------------------------------------------------------------ .h5 (HDF5)

type H5Module = typeof import('h5wasm');

let h5Module: Promise<H5Module> | undefined;
let h5FileCounter = 0;

/** h5wasm is loaded on first use (it instantiates a wasm HDF5 library). HDF5 errors become JS exceptions instead of
 * stderr dumps: the retries below make failed reads routine. */
function loadH5(): Promise<H5Module> {
  h5Module ??= import('h5wasm').then(async (mod) => {
    const m = await mod.ready;
    m.activate_throwing_error_handler();
    return mod;
  });
  return h5Module;
}

/** Bytes fetched per page; HDF5's metadata for the root group usually sits in the first page or two. */
const H5_PAGE = 64 * 1024;
/** Pages fetched in all before giving up: model_config sits in the root group's header, never deep in the weights. */
const H5_MAX_PAGES = 256;
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Emscripten's errno for EIO. */
const EIO = 29;

/**
 * Reads the root attributes of an HDF5 file without loading its weights. HDF5 (in wasm) reads synchronously while
 * our files read asynchronously, so the file is a MEMFS node whose read() serves pages fetched so far and fails with
 * EIO on a missing page, noting it. The open is then retried after fetching the noted pages; each attempt reaches
 * further into the metadata, and only the pages HDF5 touches are ever read.
 */
async function readH5Config(file: RandomAccessFile): Promise<LoadedConfig> {
  const bad = (message: string) => new KilnError('INVALID_ARGUMENT', message, file.path);
  const head = await file.read(0, HDF5_SIGNATURE.length);
  if (!head.equals(HDF5_SIGNATURE)) throw bad('not an HDF5 file (no HDF5 signature at offset 0)');

  const h5 = await loadH5();
  const { FS } = await h5.ready;
  const pages = new Map<number, Buffer>();
  let missing = new Set<number>();
  const fetchPages = async (wanted: Iterable<number>) => {
    for (const p of [...wanted].sort((a, b) => a - b)) {
      if (pages.size >= H5_MAX_PAGES) {
        throw bad(`model_config not found within the first ${H5_MAX_PAGES * H5_PAGE} bytes of metadata read`);
      }
      pages.set(p, await file.read(p * H5_PAGE, Math.min(H5_PAGE, file.size - p * H5_PAGE)));
    }
  };
  await fetchPages([0]);

  const name = `kiln-keras-${process.pid}-${++h5FileCounter}.h5`;
  // The FS types are emscripten's; MEMFS internals (usedBytes, stream_ops) are untyped, hence the loose casts.
  const fs = FS as unknown as EmscriptenFs;
  const node = fs.createFile('/', name, {}, true, false);
  Object.defineProperty(node, 'usedBytes', { get: () => file.size });
  node.stream_ops = {
    ...node.stream_ops,
    read(_stream: unknown, buffer: Uint8Array, offset: number, length: number, position: number): number {
      const end = Math.min(position + length, file.size);
      if (position >= end) return 0;
      for (let p = Math.floor(position / H5_PAGE); p * H5_PAGE < end; p++) if (!pages.has(p)) missing.add(p);
      if (missing.size) throw new fs.ErrnoError(EIO);
      for (let pos = position, out = offset; pos < end; ) {
        const p = Math.floor(pos / H5_PAGE);
        const page = pages.get(p)!;
        const from = pos - p * H5_PAGE;
        const n = Math.min(page.length - from, end - pos);
        buffer.set(page.subarray(from, from + n), out);
        pos += n;
        out += n;
      }
      return end - position;
    },
  };
  try {
    for (;;) {
      missing = new Set();
      let h5file: InstanceType<H5Module['File']> | undefined;
      try {
        h5file = new h5.File(`/${name}`, 'r');
        const attrs = h5file.attrs;
        const config = attrs['model_config'];
        if (!config) throw bad('no model_config attribute on the root group (a weights-only file?)');
        const text = attrText(config.value);
        if (text === undefined) throw bad('model_config is not a string attribute');
        const metadata: Record<string, string> = { 'keras.format': 'h5' };
        const version = attrs['keras_version'] && attrText(attrs['keras_version'].value);
        const backend = attrs['backend'] && attrText(attrs['backend'].value);
        if (version) metadata['keras.version'] = version;
        if (backend) metadata['keras.backend'] = backend;
        return { config: parseJson(text, `${file.path}:model_config`), location: `${file.path}:model_config`, metadata };
      } catch (err) {
        if (err instanceof KilnError) throw err;
        if (!missing.size) throw bad(`unreadable HDF5 file: ${hdf5Reason(err)}`);
      } finally {
        try {
          h5file?.close();
        } catch {
          // Closing after a failed read can fail too; the file id is released either way.
        }
      }
      await fetchPages(missing);
    }
  } finally {
    fs.unlink(`/${name}`);
  }
}

interface EmscriptenFs {
  createFile(parent: string, name: string, props: object, canRead: boolean, canWrite: boolean): EmscriptenNode;
  unlink(path: string): void;
  ErrnoError: new (errno: number) => Error;
}
interface EmscriptenNode {
  stream_ops: Record<string, unknown>;
}

function attrText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (Array.isArray(value) && value.length === 1) return attrText(value[0]);
  return undefined;
}

/** HDF5's error stack without the library's build paths: what the outermost call failed to do and the innermost
 * cause ("unable to synchronously open file: address of object past end of allocation"). */
export function hdf5Reason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const frames = [...msg.matchAll(/^\s*#\d+: .* in \w+\(\): (.+)$/gm)].map((m) => m[1].trim());
  if (frames.length) return frames.length > 1 ? `${frames[0]}: ${frames[frames.length - 1]}` : frames[0];
  const line = msg.split('\n').find((l) => /\S/.test(l) && !l.startsWith('HDF5-DIAG'))?.trim() ?? msg;
  // Whatever else HDF5 says, a source path of the wasm build is no help to the uploader.
  return line.replace(/\/\S*\/hdf5-src\/\S*/g, '').slice(0, 200);
}

function parseJson(text: string, location: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new KilnError('INVALID_ARGUMENT', `corrupt JSON: ${(err as Error).message}`, location);
  }
}

// ------------------------------------------------------------------------------------------------ the config

type Json = Record<string, unknown>;
type ShapeList = number[] | null;

interface LayerInfo {
  name: string;
  className: string;
  config: Json;
  /** Per call node: the (layer, node, tensor) references feeding it, and the input shapes Keras 3 records. */
  nodes: Array<{ inbound: Array<[string, number, number]>; shapes: ShapeList[] }>;
  buildInputShape: ShapeList | ShapeList[] | undefined;
}

/** The one signature of a Keras model's config (Keras 2 or Keras 3, Functional or Sequential). */
export function contractFromConfig(
  raw: unknown,
  location: string,
): Pick<InferenceResult, 'contract'> & { metadata: Record<string, string> } {
  const bad = (message: string) => new KilnError('INVALID_ARGUMENT', message, location);
  if (!isObject(raw)) throw bad('model config is not a JSON object');
  const className = typeof raw.class_name === 'string' ? raw.class_name : '';
  const cfg = raw.config;
  // Keras 2.1 and earlier saved a Sequential's config as the bare list of layers.
  const layerList = Array.isArray(cfg) ? cfg : isObject(cfg) && Array.isArray(cfg.layers) ? cfg.layers : undefined;
  if (!layerList) throw bad(`model ${className || '?'} has no layers in its config (a subclassed model?)`);
  const modelName = isObject(cfg) && typeof cfg.name === 'string' ? cfg.name : '';
  const layers = layerList.map((l, i) => parseLayer(l, `${location}: config.layers[${i}]`));
  const isFunctional = isObject(cfg) && cfg.input_layers !== undefined && cfg.output_layers !== undefined;
  let inputs: Field[];
  let outputs: Field[];
  if (isFunctional) {
    ({ inputs, outputs } = functionalSignature(cfg as Json, layers, location));
  } else if (className === 'Sequential' || !isObject(cfg) || cfg.input_layers === undefined) {
    ({ inputs, outputs } = sequentialSignature(isObject(cfg) ? cfg : {}, layers, location));
  } else {
    throw bad('functional model without output_layers');
  }
  return {
    contract: {
      signatures: [{ name: modelName || 'default', method: '', inputs, outputs, tags: [] }],
      source: 'keras',
    },
    metadata: { 'keras.class': className },
  };
}

function parseLayer(raw: unknown, where: string): LayerInfo {
  if (!isObject(raw) || !isObject(raw.config)) throw new KilnError('INVALID_ARGUMENT', 'layer is not an object with a config', where);
  const config = raw.config;
  const name = typeof raw.name === 'string' ? raw.name : typeof config.name === 'string' ? config.name : '';
  const nodes: LayerInfo['nodes'] = [];
  if (Array.isArray(raw.inbound_nodes)) {
    for (const node of raw.inbound_nodes) {
      if (Array.isArray(node)) {
        // Keras 2: a node is a list of [layer, node index, tensor index, kwargs].
        const inbound = node.filter(isRef).map((r) => [r[0], r[1], r[2]] as [string, number, number]);
        nodes.push({ inbound, shapes: inbound.map(() => null) });
      } else if (isObject(node)) {
        // Keras 3: {args, kwargs}, with each input a __keras_tensor__ carrying its shape and history.
        const tensors: Json[] = [];
        collectKerasTensors(node.args, tensors);
        nodes.push({
          inbound: tensors.map((t) => {
            const h = (t.config as Json).keras_history as unknown[];
            return [String(h[0]), Number(h[1]), Number(h[2])] as [string, number, number];
          }),
          shapes: tensors.map((t) => shapeList((t.config as Json).shape)),
        });
      }
    }
  }
  const build = isObject(raw.build_config) ? raw.build_config.input_shape : undefined;
  return {
    name,
    className: typeof raw.class_name === 'string' ? raw.class_name : '',
    config,
    nodes,
    buildInputShape: build === undefined ? undefined : nestedShapes(build),
  };
}

function collectKerasTensors(v: unknown, out: Json[]): void {
  if (Array.isArray(v)) for (const x of v) collectKerasTensors(x, out);
  else if (isObject(v)) {
    if (v.class_name === '__keras_tensor__' && isObject(v.config) && Array.isArray(v.config.keras_history)) out.push(v);
    else if (v.class_name === undefined) for (const x of Object.values(v)) collectKerasTensors(x, out);
  }
}

const isRef = (v: unknown): v is [string, number, number] =>
  Array.isArray(v) && v.length >= 3 && typeof v[0] === 'string' && typeof v[1] === 'number' && typeof v[2] === 'number';

/** input_layers / output_layers: a [name, node, tensor] triple, or lists or dicts of them (Keras 3 keeps the
 * structure of the model's inputs, and a single input as a bare triple). */
function flattenRefs(v: unknown, out: Array<[string, number, number]> = []): Array<[string, number, number]> {
  if (isRef(v)) out.push([v[0], v[1], v[2]]);
  else if (Array.isArray(v)) for (const x of v) flattenRefs(x, out);
  else if (isObject(v)) for (const x of Object.values(v)) flattenRefs(x, out);
  return out;
}

function functionalSignature(cfg: Json, layers: LayerInfo[], location: string) {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const get = (name: string, what: string) => {
    const l = byName.get(name);
    if (!l) throw new KilnError('INVALID_ARGUMENT', `${what} names an unknown layer '${name}'`, location);
    return l;
  };
  const shapes = new ShapeInference(byName);
  const inputs = flattenRefs(cfg.input_layers).map(([name]) => {
    const layer = get(name, 'input_layers');
    return field(name, tensor(kerasDataType(layer.config.dtype), toDims(inputShape(layer.config))));
  });
  const seen = new Map<string, number>();
  const outputs = flattenRefs(cfg.output_layers).map(([name, node, index]) => {
    const layer = get(name, 'output_layers');
    // A layer listed twice gets a suffix so that names stay unique.
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    const shape = index === 0 ? shapes.output(layer, node) : null;
    return field(n ? `${name}_${n}` : name, tensor(outputDataType(layer), toDims(shape)));
  });
  return { inputs, outputs };
}

function sequentialSignature(cfg: Json, layers: LayerInfo[], location: string) {
  if (!layers.length) throw new KilnError('INVALID_ARGUMENT', 'Sequential model has no layers', location);
  const first = layers[0];
  const body = first.className === 'InputLayer' ? layers.slice(1) : layers;
  // Keras names the implicit input of a Sequential `<first layer>_input`; an explicit InputLayer keeps its name.
  const inputName = first.className === 'InputLayer' ? first.name : `${first.name}_input`;
  let shape: ShapeList = inputShape(first.config);
  if (!shape && first.className !== 'InputLayer') {
    const b = first.buildInputShape ?? nestedShapes(cfg.build_input_shape);
    shape = isShapeList(b) ? b : null;
  }
  const inputs = [field(inputName, tensor(kerasDataType(first.config.dtype), toDims(shape)))];
  const infer = new ShapeInference(new Map());
  let current = shape;
  for (const layer of body) current = infer.apply(layer, [current]);
  const last = body[body.length - 1] ?? first;
  return { inputs, outputs: [field(last.name, tensor(outputDataType(last), toDims(current)))] };
}

/** An InputLayer's (or a first layer's) batch shape: Keras 3 `batch_shape`, Keras 2 `batch_input_shape`, or
 * `input_shape` without the batch dim. The batch dim is always -1 in the contract. */
function inputShape(config: Json): ShapeList {
  const batch = shapeList(config.batch_shape ?? config.batch_input_shape);
  if (batch) return batch.length ? [-1, ...batch.slice(1)] : batch;
  const noBatch = shapeList(config.input_shape);
  return noBatch ? [-1, ...noBatch] : null;
}

function toDims(shape: ShapeList): Dim[] | null {
  return shape ? shape.map((s) => dim(s)) : null;
}

function shapeList(v: unknown): ShapeList {
  if (!Array.isArray(v)) return null;
  const out: number[] = [];
  for (const d of v) {
    if (d === null) out.push(-1);
    else if (typeof d === 'number' && Number.isInteger(d) && d >= 0) out.push(d);
    else return null;
  }
  return out;
}

const isShapeList = (v: unknown): v is number[] => Array.isArray(v) && v.every((d) => typeof d === 'number');

function nestedShapes(v: unknown): ShapeList | ShapeList[] | undefined {
  if (!Array.isArray(v)) return undefined;
  if (v.every((d) => d === null || typeof d === 'number')) return shapeList(v);
  return v.map((x) => (Array.isArray(x) ? shapeList(x) : null));
}

/**
 * Output shapes of the few layers whose shape follows from their config and input shapes. The config does not
 * store output shapes; anything outside this table has unknown rank in the contract.
 */
class ShapeInference {
  private readonly memo = new Map<string, ShapeList>();
  private readonly visiting = new Set<string>();

  constructor(private readonly layers: Map<string, LayerInfo>) {}

  /** The shape of output 0 of `layer` at call node `node`. */
  output(layer: LayerInfo, node: number): ShapeList {
    const key = `${layer.name}\0${node}`;
    if (this.memo.has(key)) return this.memo.get(key)!;
    if (this.visiting.has(key)) return null; // a cycle in a damaged config
    this.visiting.add(key);
    let result: ShapeList;
    if (layer.className === 'InputLayer') result = inputShape(layer.config);
    else result = this.apply(layer, this.inputShapes(layer, node));
    this.visiting.delete(key);
    this.memo.set(key, result);
    return result;
  }

  private inputShapes(layer: LayerInfo, node: number): ShapeList[] {
    const n = layer.nodes[node];
    if (!n) {
      const b = layer.buildInputShape;
      if (b === undefined) return [null];
      return isShapeList(b) || b === null ? [b] : (b as ShapeList[]);
    }
    return n.inbound.map(([name, srcNode, index], i) => {
      if (n.shapes[i]) return n.shapes[i]; // Keras 3 records it
      const src = this.layers.get(name);
      return src && index === 0 ? this.output(src, srcNode) : null;
    });
  }

  apply(layer: LayerInfo, ins: ShapeList[]): ShapeList {
    const c = layer.config;
    const x = ins[0] ?? null;
    switch (layer.className) {
      case 'InputLayer':
        return inputShape(c);
      case 'Dense': {
        const units = typeof c.units === 'number' ? c.units : -1;
        // Dense acts on the last axis and keeps the others, so without the input's shape the rank is unknown (after
        // an LSTM returning sequences it is 3): a guess here would make a manifest with the true rank a contradiction.
        return x && x.length >= 2 ? [...x.slice(0, -1), units] : null;
      }
      case 'LSTM': case 'GRU': case 'SimpleRNN': {
        // Output 0: the whole sequence (batch, time, units) or the last step (batch, units).
        if (!x || x.length !== 3 || typeof c.units !== 'number' || c.time_major === true) return null;
        return c.return_sequences === true ? [x[0], x[1], c.units] : [x[0], c.units];
      }
      case 'Activation': case 'Dropout': case 'BatchNormalization': case 'LayerNormalization': case 'ReLU':
      case 'LeakyReLU': case 'PReLU': case 'ELU': case 'Softmax': case 'GaussianNoise': case 'GaussianDropout':
      case 'AlphaDropout': case 'SpatialDropout1D': case 'SpatialDropout2D': case 'SpatialDropout3D':
      case 'ActivityRegularization': case 'Masking': case 'Rescaling': case 'UnitNormalization': case 'Identity':
      case 'ThresholdedReLU':
        return x;
      case 'Add': case 'Subtract': case 'Multiply': case 'Average': case 'Maximum': case 'Minimum':
        return ins.length && ins.every((s) => s && x && sameShape(s, x)) ? x : null;
      case 'Flatten':
        return x ? [x[0] ?? -1, x.slice(1).some((d) => d < 0) ? -1 : x.slice(1).reduce((a, b) => a * b, 1)] : null;
      case 'Concatenate': {
        if (!ins.length || ins.some((s) => !s) || new Set(ins.map((s) => s!.length)).size !== 1) return null;
        const rank = x!.length;
        const given = typeof c.axis === 'number' ? c.axis : -1;
        const axis = given < 0 ? rank + given : given;
        if (axis <= 0 || axis >= rank) return null;
        const out = [...x!];
        out[axis] = ins.some((s) => s![axis] < 0) ? -1 : ins.reduce((a, s) => a + s![axis], 0);
        return out;
      }
      case 'Embedding':
        return x && typeof c.output_dim === 'number' ? [...x, c.output_dim] : null;
      case 'GlobalAveragePooling1D': case 'GlobalMaxPooling1D': case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': case 'GlobalAveragePooling3D': case 'GlobalMaxPooling3D': {
        if (!x || c.keepdims === true) return null;
        const channelsFirst = c.data_format === 'channels_first';
        return [x[0], channelsFirst ? x[1] : x[x.length - 1]];
      }
      case 'RepeatVector':
        return x && x.length === 2 && typeof c.n === 'number' ? [x[0], c.n, x[1]] : null;
      case 'Reshape': {
        const target = Array.isArray(c.target_shape) ? shapeList(c.target_shape.map((d) => (d === -1 ? null : d))) : null;
        return target ? [-1, ...target] : null;
      }
      default:
        return null;
    }
  }
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** A layer's output dtype: its dtype, or its dtype policy's compute dtype (mixed_float16 computes in float16). */
function outputDataType(layer: LayerInfo): DataType {
  return kerasDataType(layer.config.dtype);
}

function kerasDataType(dtype: unknown): DataType {
  let name: unknown = dtype;
  // Keras 3 DTypePolicy objects and Keras 2 mixed-precision Policy objects carry the policy name in config.name.
  if (isObject(dtype)) name = isObject(dtype.config) ? dtype.config.name : undefined;
  if (name === undefined || name === null) return 'DATA_TYPE_FLOAT';
  if (typeof name !== 'string') return 'DATA_TYPE_UNSPECIFIED';
  // Quantized policies ("int8_from_mixed_bfloat16") compute in their source policy's dtype.
  let policy = name.includes('_from_') ? name.slice(name.indexOf('_from_') + 6) : name;
  if (policy.startsWith('mixed_')) policy = policy.slice(6);
  return KERAS_DTYPES[policy] ?? 'DATA_TYPE_UNSPECIFIED';
}

const KERAS_DTYPES: Record<string, DataType> = {
  float16: 'DATA_TYPE_FLOAT16', half: 'DATA_TYPE_FLOAT16', float32: 'DATA_TYPE_FLOAT', float: 'DATA_TYPE_FLOAT',
  float64: 'DATA_TYPE_DOUBLE', double: 'DATA_TYPE_DOUBLE', bfloat16: 'DATA_TYPE_BFLOAT16',
  int8: 'DATA_TYPE_INT8', int16: 'DATA_TYPE_INT16', int32: 'DATA_TYPE_INT32', int64: 'DATA_TYPE_INT64',
  uint8: 'DATA_TYPE_UINT8', uint16: 'DATA_TYPE_UINT16', uint32: 'DATA_TYPE_UINT32', uint64: 'DATA_TYPE_UINT64',
  bool: 'DATA_TYPE_BOOL', string: 'DATA_TYPE_STRING', complex64: 'DATA_TYPE_COMPLEX64',
  complex128: 'DATA_TYPE_COMPLEX128',
  float8_e4m3fn: 'DATA_TYPE_FLOAT8E4M3FN', float8_e5m2: 'DATA_TYPE_FLOAT8E5M2',
};

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
