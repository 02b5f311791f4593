// TensorFlow SavedModel contract inference: every MetaGraphDef's SignatureDefs, read from saved_model.pb with the
// wire scanner (graph_def, object graph and the rest are skipped unread) or from saved_model.pbtxt.
import { KilnError } from '@kiln/errors';
import type { ContractFormat, FileEntry } from './format';
import type { ModelFiles, RandomAccessFile } from './source';
import type { DataType, Dim, InferenceResult, Signature, ValueType } from './types';
import { field, tensor } from './types';
import { TF_DTYPE_NUMBERS, tfDataType } from './dtypes';
import { schema, span, wholeFile, WireReader, WIRE_LEN, WIRE_VARINT, type Span, type WireField } from './wire';
import { parseTextSavedModel } from './savedmodel-pbtxt';
import { compareCodeUnits } from '@kiln/std';

// Field numbers from tensorflow/core/protobuf/{saved_model,meta_graph,struct}.proto and
// tensorflow/core/framework/{tensor_shape,types}.proto. Only what inference needs; the text parser uses the same
// schema, so fields left out here (graph_def...) are skipped there too.
export const tfRoot = schema(`
syntax = "proto3";
package tensorflow;
message SavedModel { int64 saved_model_schema_version = 1; repeated MetaGraphDef meta_graphs = 2; }
message MetaGraphDef {
  message MetaInfoDef { repeated string tags = 4; string tensorflow_version = 5; }
  MetaInfoDef meta_info_def = 1;
  map<string, SignatureDef> signature_def = 5;
}
message SignatureDef {
  map<string, TensorInfo> inputs = 1;
  map<string, TensorInfo> outputs = 2;
  string method_name = 3;
}
message TensorInfo {
  message CooSparse { string values_tensor_name = 1; string indices_tensor_name = 2; string dense_shape_tensor_name = 3; }
  message CompositeTensor { TypeSpecProto type_spec = 1; repeated TensorInfo components = 2; }
  oneof encoding { string name = 1; CooSparse coo_sparse = 4; CompositeTensor composite_tensor = 5; }
  DataType dtype = 2;
  TensorShapeProto tensor_shape = 3;
}
message TensorShapeProto {
  message Dim { int64 size = 1; string name = 2; }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}
message TypeSpecProto {
  enum TypeSpecClass {
    UNKNOWN = 0; SPARSE_TENSOR_SPEC = 1; INDEXED_SLICES_SPEC = 2; RAGGED_TENSOR_SPEC = 3; TENSOR_ARRAY_SPEC = 4;
    DATA_DATASET_SPEC = 5; DATA_ITERATOR_SPEC = 6; OPTIONAL_SPEC = 7; PER_REPLICA_SPEC = 8; VARIABLE_SPEC = 9;
    ROW_PARTITION_SPEC = 10; REGISTERED_TYPE_SPEC = 12; EXTENSION_TYPE_SPEC = 13;
  }
  TypeSpecClass type_spec_class = 1;
  StructuredValue type_state = 2;
  string type_spec_class_name = 3;
}
message StructuredValue {
  oneof kind {
    NoneValue none_value = 1;
    double float64_value = 11;
    sint64 int64_value = 12;
    string string_value = 13;
    bool bool_value = 14;
    TensorShapeProto tensor_shape_value = 31;
    DataType tensor_dtype_value = 32;
    TensorSpecProto tensor_spec_value = 33;
    TypeSpecProto type_spec_value = 34;
    ListValue list_value = 51;
    TupleValue tuple_value = 52;
  }
}
message NoneValue {}
message ListValue { repeated StructuredValue values = 1; }
message TupleValue { repeated StructuredValue values = 1; }
message TensorSpecProto { string name = 1; TensorShapeProto shape = 2; DataType dtype = 3; }
enum DataType { ${Object.entries(TF_DTYPE_NUMBERS).map(([k, v]) => `${k} = ${v};`).join(' ')} }
`);
const TensorInfoType = tfRoot.lookupType('tensorflow.TensorInfo');
const TYPE_SPEC = { SPARSE: 1, RAGGED: 3, TENSOR_ARRAY: 4, OPTIONAL: 7 };

export interface ShapeMsg {
  dim?: Array<{ size?: number; name?: string }>;
  unknown_rank?: boolean;
}
export interface TypeSpecMsg {
  type_spec_class?: number;
  type_state?: StructuredValueMsg;
  type_spec_class_name?: string;
}
export interface StructuredValueMsg {
  int64_value?: number;
  tensor_spec_value?: { shape?: ShapeMsg; dtype?: number };
  type_spec_value?: TypeSpecMsg;
  tensor_shape_value?: ShapeMsg;
  tensor_dtype_value?: number;
  tuple_value?: { values?: StructuredValueMsg[] };
  list_value?: { values?: StructuredValueMsg[] };
}
export interface TensorInfoMsg {
  name?: string;
  coo_sparse?: object;
  composite_tensor?: { type_spec?: TypeSpecMsg };
  dtype?: number;
  tensor_shape?: ShapeMsg;
}
export interface SignatureDefMsg {
  inputs?: Record<string, TensorInfoMsg>;
  outputs?: Record<string, TensorInfoMsg>;
  method_name?: string;
}
export interface MetaGraphMsg {
  meta_info_def?: { tags?: string[]; tensorflow_version?: string };
  signature_def?: Record<string, SignatureDefMsg>;
}
export interface SavedModelMsg {
  saved_model_schema_version?: number;
  meta_graphs?: MetaGraphMsg[];
}

const PB = 'saved_model.pb';
const PBTXT = 'saved_model.pbtxt';
const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const dirName = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

/**
 * Which SavedModel file a model is. The SavedModel lives in the shallowest directory holding a saved_model.pb (or
 * .pbtxt; .pb wins, as in TensorFlow's loader). When several directories tie at that depth and all are numbered,
 * they are TF Serving versions (`<model>/<version>/saved_model.pb`) and the highest number wins, as TF Serving's
 * default version policy serves the latest; otherwise the model is ambiguous.
 */
export function pickSavedModelFile(files: FileEntry[]): string | undefined {
  const found = files.filter((f) => baseName(f.path) === PB || baseName(f.path) === PBTXT).map((f) => f.path);
  if (found.length === 0) return undefined;
  const depth = (p: string) => (p === '' ? 0 : p.split('/').length);
  const minDepth = Math.min(...found.map((p) => depth(dirName(p))));
  const dirs = [...new Set(found.map(dirName).filter((d) => depth(d) === minDepth))];
  let dir = dirs[0];
  if (dirs.length > 1) {
    const versions = dirs.map((d) => ({ d, v: baseName(d) }));
    if (!versions.every(({ v }) => /^\d+$/.test(v))) {
      throw new KilnError('INVALID_ARGUMENT', `several SavedModels in the model: ${dirs.join(', ')}`);
    }
    versions.sort((a, b) => (BigInt(a.v) < BigInt(b.v) ? 1 : BigInt(a.v) > BigInt(b.v) ? -1 : 0));
    dir = versions[0].d;
  }
  const inDir = (name: string) => (dir ? `${dir}/${name}` : name);
  return found.includes(inDir(PB)) ? inDir(PB) : inDir(PBTXT);
}

export const savedModelFormat: ContractFormat = {
  name: 'savedmodel',
  detect(files) {
    try {
      return pickSavedModelFile(files) !== undefined;
    } catch {
      return true; // it is a SavedModel layout; infer() says what is ambiguous
    }
  },
  async infer(files: ModelFiles): Promise<InferenceResult> {
    const path = pickSavedModelFile(await files.list());
    if (!path) throw new KilnError('INVALID_ARGUMENT', `no ${PB} or ${PBTXT} in the model`);
    const file = await files.open(path);
    const msg = path.endsWith('.pbtxt') ? await parseTextSavedModel(file, tfRoot) : await scanSavedModel(file);
    return toResult(msg, file.path);
  },
};

/** Reads the SavedModel proto's metadata parts from binary wire format. */
export async function scanSavedModel(file: RandomAccessFile): Promise<SavedModelMsg> {
  const r = new WireReader(file);
  const out: SavedModelMsg = { meta_graphs: [] };
  for await (const f of r.fields(wholeFile(file))) {
    if (f.number === 1 && f.wireType === WIRE_VARINT) out.saved_model_schema_version = Number(f.varint);
    else if (f.number === 2) out.meta_graphs!.push(await scanMetaGraph(r, span(file, f, 'meta_graphs')));
  }
  return out;
}

async function scanMetaGraph(r: WireReader, s: Span): Promise<MetaGraphMsg> {
  const mg: MetaGraphMsg = { meta_info_def: { tags: [] }, signature_def: {} };
  for await (const f of r.fields(s)) {
    if (f.number === 1) {
      // MetaInfoDef: tags and version only; stripped_op_list can be large and is skipped.
      for await (const m of r.fields(span(r.file, f, 'meta_info_def'))) {
        if (m.number === 4) mg.meta_info_def!.tags!.push(await r.string(m, 'tag'));
        else if (m.number === 5) mg.meta_info_def!.tensorflow_version = await r.string(m, 'tensorflow_version');
      }
    } else if (f.number === 5) {
      const { key, value } = await mapEntry(r, f, 'signature_def', (v) => scanSignatureDef(r, span(r.file, v, 'SignatureDef')));
      mg.signature_def![key] = value ?? {};
    }
    // graph_def (2), saver_def, collection_def, asset_file_def, object_graph_def: skipped unread.
  }
  return mg;
}

async function scanSignatureDef(r: WireReader, s: Span): Promise<SignatureDefMsg> {
  const sig: SignatureDefMsg = { inputs: {}, outputs: {} };
  for await (const f of r.fields(s)) {
    if (f.number === 1 || f.number === 2) {
      const { key, value } = await mapEntry(r, f, 'TensorInfo map', (v) => r.decode<TensorInfoMsg>(TensorInfoType, v));
      (f.number === 1 ? sig.inputs! : sig.outputs!)[key] = value ?? {};
    } else if (f.number === 3) {
      sig.method_name = await r.string(f, 'method_name');
    }
    // defaults (4): tensors, not needed.
  }
  return sig;
}

/** A map<string, V> entry: key is field 1, value field 2 (absent ones are the defaults; a repeated key wins last). */
async function mapEntry<V>(r: WireReader, f: WireField, what: string, value: (v: WireField) => Promise<V>) {
  let key = '';
  let val: V | undefined;
  for await (const e of r.fields(span(r.file, f, what))) {
    if (e.number === 1 && e.wireType === WIRE_LEN) key = await r.string(e, `${what} key`);
    else if (e.number === 2) val = await value(e);
  }
  return { key, value: val };
}

const byKey = <T>(rec: Record<string, T> | undefined) =>
  Object.entries(rec ?? {}).sort(([a], [b]) => compareCodeUnits(a, b));

function toResult(msg: SavedModelMsg, path: string): InferenceResult {
  const signatures: Signature[] = [];
  const metadata: Record<string, string> = { 'savedmodel.file': path };
  if (msg.saved_model_schema_version !== undefined) {
    metadata['savedmodel.schema_version'] = String(msg.saved_model_schema_version);
  }
  const graphs = msg.meta_graphs ?? [];
  if (graphs.length === 0) throw new KilnError('INVALID_ARGUMENT', 'SavedModel has no MetaGraphDef', path);
  graphs.forEach((mg, g) => {
    const tags = mg.meta_info_def?.tags ?? [];
    const version = mg.meta_info_def?.tensorflow_version;
    if (version && !metadata['savedmodel.tensorflow_version']) metadata['savedmodel.tensorflow_version'] = version;
    for (const [key, sig] of byKey(mg.signature_def)) {
      if (key.startsWith('__')) continue; // __saved_model_init_op and other internal entries are not signatures
      const where = `${path}: meta_graphs[${g}].signature_def[${key}]`;
      const fields = (rec: Record<string, TensorInfoMsg> | undefined, kind: string) =>
        byKey(rec).map(([name, info]) => {
          const { type, unsupported } = tensorInfoType(info, `${where}.${kind}[${name}]`);
          // One field the contract cannot express does not sink the rest: it stays, untyped, and the note says why.
          if (unsupported) metadata[`savedmodel.unsupported.${key}.${kind}.${name}`] = unsupported;
          return field(name, type);
        });
      signatures.push({
        name: key,
        method: sig.method_name ?? '',
        inputs: fields(sig.inputs, 'inputs'),
        outputs: fields(sig.outputs, 'outputs'),
        tags: [...tags],
      });
    }
  });
  return { contract: { source: 'savedmodel', signatures }, metadata };
}

/** No shape message at all (TF 1.0 wrote TensorInfos without tensor_shape) says nothing: unknown rank, not a scalar. */
function shape(s: ShapeMsg | undefined): { dims: Dim[] } | null {
  if (!s || s.unknown_rank) return null;
  return { dims: (s?.dim ?? []).map((d) => ({ size: d.size ?? 0, name: d.name ?? '' })) };
}

/** A TensorInfo's type. A composite the contract model has no equivalent for (ExtensionType, a dataset...) is an
 * untyped tensor of unknown rank, with `unsupported` naming its TypeSpec class for the metadata note. */
function tensorInfoType(info: TensorInfoMsg, where: string): { type: ValueType; unsupported?: string } {
  const dtype = tfDataType(info.dtype ?? 0);
  if (info.coo_sparse) return { type: { type: 'sparseTensor', sparseTensor: { dtype, shape: shape(info.tensor_shape) } } };
  if (info.composite_tensor) {
    const spec = info.composite_tensor.type_spec;
    const type = specType(spec, where);
    return type ? { type } : { type: tensor('DATA_TYPE_UNSPECIFIED', null), unsupported: specName(spec) };
  }
  return { type: { type: 'tensor', tensor: { dtype, shape: shape(info.tensor_shape) } } };
}

const specName = (spec: TypeSpecMsg | undefined) =>
  spec?.type_spec_class_name || `type spec class ${spec?.type_spec_class ?? 0}`;

/** A TypeSpec's contract type (its state is the tuple TypeSpec._serialize() returns), or undefined for a class the
 * contract model has no equivalent for. */
function specType(spec: TypeSpecMsg | undefined, where: string): ValueType | undefined {
  const state = spec?.type_state?.tuple_value?.values ?? spec?.type_state?.list_value?.values ?? [];
  const need = (n: number) => {
    if (state.length < n) throw new KilnError('INVALID_ARGUMENT', `${specName(spec)} state has fewer than ${n} parts`, where);
  };
  switch (spec?.type_spec_class ?? 0) {
    case TYPE_SPEC.RAGGED:
      // RaggedTensorSpec state: (shape, dtype, ragged_rank, row_splits_dtype[, flat_values_spec]).
      need(4);
      return {
        type: 'raggedTensor',
        raggedTensor: {
          dtype: specDtype(state[1]),
          shape: shape(state[0].tensor_shape_value),
          raggedRank: state[2].int64_value ?? 0,
          rowSplitsDtype: specDtype(state[3]),
        },
      };
    case TYPE_SPEC.SPARSE:
      // SparseTensorSpec state: (shape, dtype).
      need(2);
      return { type: 'sparseTensor', sparseTensor: { dtype: specDtype(state[1]), shape: shape(state[0].tensor_shape_value) } };
    case TYPE_SPEC.TENSOR_ARRAY:
      // TensorArraySpec state: (element_shape, dtype, dynamic_size, infer_shape): a sequence of like tensors.
      need(2);
      return { type: 'sequence', sequence: { elementType: tensor(specDtype(state[1]), shape(state[0].tensor_shape_value)?.dims ?? null) } };
    case TYPE_SPEC.OPTIONAL: {
      // OptionalSpec state: (element_spec,): a TensorSpec, or another TypeSpec.
      need(1);
      const el = state[0];
      let elementType: ValueType | undefined;
      if (el.tensor_spec_value) {
        elementType = tensor(tfDataType(el.tensor_spec_value.dtype ?? 0), shape(el.tensor_spec_value.shape)?.dims ?? null);
      } else if (el.type_spec_value) {
        elementType = specType(el.type_spec_value, where);
      }
      // An element structure (a tuple or dict of specs) has no single contract type.
      return elementType ? { type: 'optional', optional: { elementType } } : undefined;
    }
    default:
      return undefined;
  }
}

const specDtype = (v: StructuredValueMsg | undefined): DataType => tfDataType(v?.tensor_dtype_value ?? 0);
