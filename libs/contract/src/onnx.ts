// ONNX contract inference: the graph's inputs (minus initializers) and outputs, read from the ModelProto's metadata
// with the wire scanner, so weights (inline or external) are skipped, never read.
import { KilnError } from '@kiln/errors';
import type { ContractFormat, FileEntry } from './format';
import type { ModelFiles, RandomAccessFile } from './source';
import { field, type DataType, type Dim, type Field, type InferenceResult, type ValueType } from './types';
import { onnxDataType } from './dtypes';
import { int64Varint, MAX_STRING_BYTES, schema, span, wholeFile, WireReader, WIRE_LEN, type Span, type WireField } from './wire';
import { byPath, forEachConcurrently } from '@kiln/std';

// Field numbers from onnx/onnx.proto. Only what inference needs; protobufjs skips the rest.
const root = schema(`
syntax = "proto2";
package onnx;
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message TypeProto {
  message Tensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
  message Sequence { optional TypeProto elem_type = 1; }
  message Map { optional int32 key_type = 1; optional TypeProto value_type = 2; }
  message Optional { optional TypeProto elem_type = 1; }
  message SparseTensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
  message Opaque { optional string domain = 1; optional string name = 2; }
  oneof value {
    Tensor tensor_type = 1;
    Sequence sequence_type = 4;
    Map map_type = 5;
    Opaque opaque_type = 7;
    SparseTensor sparse_tensor_type = 8;
    Optional optional_type = 9;
  }
}
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message StringStringEntryProto { optional string key = 1; optional string value = 2; }
`);
const ValueInfoProto = root.lookupType('onnx.ValueInfoProto');
const OperatorSetIdProto = root.lookupType('onnx.OperatorSetIdProto');
const StringStringEntryProto = root.lookupType('onnx.StringStringEntryProto');

const MODEL = { irVersion: 1, producerName: 2, producerVersion: 3, domain: 4, modelVersion: 5, graph: 7, opsetImport: 8, metadataProps: 14 };
const GRAPH = { name: 2, initializer: 5, input: 11, output: 12, sparseInitializer: 15 };
const TENSOR_NAME = 8; // TensorProto.name
const SPARSE_VALUES = 1; // SparseTensorProto.values (a TensorProto whose name is the initializer's)

/** How deep sequence/map/optional types may nest before we call the file corrupt. */
const MAX_TYPE_DEPTH = 64;

/** After hopping over an initializer's data, read this much at the next one: its tag and length, dims, data_type and
 * (usually) name. Initializers whose name is not within it are finished later, only if needed, concurrently. */
const INITIALIZER_HEAD = 48;
/** How many initializers' remaining fields are read at once (range requests to an object store). */
const NAME_READS_IN_FLIGHT = 16;

interface ShapeMsg {
  dim?: Array<{ dim_value?: number; dim_param?: string }>;
}
interface TypeMsg {
  tensor_type?: { elem_type?: number; shape?: ShapeMsg };
  sequence_type?: { elem_type?: TypeMsg };
  map_type?: { key_type?: number; value_type?: TypeMsg };
  optional_type?: { elem_type?: TypeMsg };
  sparse_tensor_type?: { elem_type?: number; shape?: ShapeMsg };
  opaque_type?: { domain?: string; name?: string };
}
interface ValueInfoMsg {
  name?: string;
  type?: TypeMsg;
}

/** An initializer whose name was not in the bytes read while hopping over it: where to finish reading it. */
type PendingName =
  /** The name field's payload (its header was read). */
  | { kind: 'bytes'; offset: number; length: number }
  /** A TensorProto's fields from `from` on (a data array came before the name); `name` is the last seen so far. */
  | { kind: 'tensor'; span: Span; from: number; name: NameSoFar }
  /** A SparseTensorProto (its values tensor carries the name). */
  | { kind: 'sparse'; span: Span };
type NameSoFar = string | { offset: number; length: number } | undefined;

interface GraphScan {
  name?: string;
  inputs: ValueInfoMsg[];
  outputs: ValueInfoMsg[];
  initializers: Set<string>;
  pending: PendingName[];
  seen: boolean;
}

/** Every file that could be the model. */
export function onnxModelFiles(files: FileEntry[]): string[] {
  return files.filter((f) => f.path.toLowerCase().endsWith('.onnx')).map((f) => f.path);
}

/** The .onnx file a model is (inferContract refuses several): the shallowest, then the first by path. */
function pickOnnxFile(files: FileEntry[]): string | undefined {
  const onnx = onnxModelFiles(files).map((path) => ({ path }));
  const depth = (p: string) => p.split('/').length;
  onnx.sort((a, b) => depth(a.path) - depth(b.path) || byPath(a, b));
  return onnx[0]?.path;
}

export const onnxFormat: ContractFormat = {
  name: 'onnx',
  detect: (files) => pickOnnxFile(files) !== undefined,
  async infer(files: ModelFiles): Promise<InferenceResult> {
    const path = pickOnnxFile(await files.list());
    if (!path) throw new KilnError('INVALID_ARGUMENT', 'no .onnx file in the model');
    return inferOnnxFile(await files.open(path));
  },
};

/** Reads one ONNX ModelProto's contract and metadata. */
export async function inferOnnxFile(file: RandomAccessFile): Promise<InferenceResult> {
  const r = new WireReader(file, { jumpWindow: INITIALIZER_HEAD });
  const metadata: Record<string, string> = {};
  const graph: GraphScan = { inputs: [], outputs: [], initializers: new Set(), pending: [], seen: false };
  const int64 = (f: WireField, what: string) => int64Varint(file, f, what).toString();

  for await (const f of r.fields(wholeFile(file))) {
    switch (f.number) {
      case MODEL.irVersion:
        metadata['onnx.ir_version'] = int64(f, 'ir_version');
        break;
      case MODEL.producerName:
        metadata['onnx.producer_name'] = await r.string(f, 'producer_name');
        break;
      case MODEL.producerVersion:
        metadata['onnx.producer_version'] = await r.string(f, 'producer_version');
        break;
      case MODEL.domain:
        metadata['onnx.domain'] = await r.string(f, 'domain');
        break;
      case MODEL.modelVersion:
        metadata['onnx.model_version'] = int64(f, 'model_version');
        break;
      case MODEL.graph:
        // A repeated non-repeated message merges (protobuf semantics), so scanning into one accumulator is right.
        graph.seen = true;
        await scanGraph(r, span(file, f, 'graph'), graph);
        break;
      case MODEL.opsetImport: {
        const o = await r.decode<{ domain?: string; version?: number }>(OperatorSetIdProto, f);
        metadata[`onnx.opset.${o.domain || 'ai.onnx'}`] = String(o.version ?? 0);
        break;
      }
      case MODEL.metadataProps: {
        const e = await r.decode<{ key?: string; value?: string }>(StringStringEntryProto, f);
        metadata[`onnx.meta.${e.key ?? ''}`] = e.value ?? '';
        break;
      }
      default:
        break; // doc_string, training_info, functions...: not needed
    }
  }
  if (!graph.seen) throw new KilnError('INVALID_ARGUMENT', 'not an ONNX model: no graph', file.path);

  await resolveInitializerNames(file, graph);
  const where = (kind: string, i: number) => `${file.path}: graph.${kind}[${i}]`;
  const inputs = graph.inputs
    .map((v, i) => ({ v, i }))
    .filter(({ v }) => !graph.initializers.has(v.name ?? ''))
    .map(({ v, i }) => toField(v, where('input', i), `input.${v.name ?? ''}`, metadata));
  const outputs = graph.outputs.map((v, i) => toField(v, where('output', i), `output.${v.name ?? ''}`, metadata));
  return {
    contract: {
      source: 'onnx',
      signatures: [{ name: graph.name || 'default', method: '', inputs, outputs, tags: [] }],
    },
    metadata,
  };
}

async function scanGraph(r: WireReader, s: Span, g: GraphScan): Promise<void> {
  for await (const f of r.fields(s)) {
    switch (f.number) {
      case GRAPH.name:
        g.name = await r.string(f, 'graph.name');
        break;
      case GRAPH.input:
        g.inputs.push(await r.decode<ValueInfoMsg>(ValueInfoProto, f));
        break;
      case GRAPH.output:
        g.outputs.push(await r.decode<ValueInfoMsg>(ValueInfoProto, f));
        break;
      case GRAPH.initializer: {
        // Only what is already read: the hop to this initializer read its first bytes, which usually hold the name.
        const t = span(r.file, f, 'initializer');
        const { done, next, name } = peekTensorName(r, t);
        if (!done) g.pending.push({ kind: 'tensor', span: t, from: next, name });
        else if (typeof name === 'string') g.initializers.add(name);
        else if (name) g.pending.push({ kind: 'bytes', ...name });
        break;
      }
      case GRAPH.sparseInitializer: {
        const t = span(r.file, f, 'sparse_initializer');
        const names = peekSparseNames(r, t);
        if (names) names.forEach((n) => g.initializers.add(n));
        else g.pending.push({ kind: 'sparse', span: t });
        break;
      }
      default:
        break; // nodes, value_info, doc_string...: skipped without reading
    }
  }
}

/** A TensorProto's name from the bytes in the window only: `done` when all its fields' headers were there (so the
 * last name field is known: protobuf's last-one-wins), the name itself or where it is when its bytes were not. */
function peekTensorName(r: WireReader, s: Span): { done: boolean; next: number; name: NameSoFar } {
  const { fields, next } = r.peekFields(s);
  let name: NameSoFar;
  for (const f of fields) {
    if (f.number !== TENSOR_NAME || f.wireType !== WIRE_LEN) continue;
    const bytes = r.peekBytes(f.offset, f.length);
    name = bytes ? bytes.toString('utf8') : { offset: f.offset, length: f.length };
  }
  return { done: next === s.offset + s.length, next, name };
}

/** The names of a SparseTensorProto's values tensors, if the window holds all of them; undefined if not. */
function peekSparseNames(r: WireReader, s: Span): string[] | undefined {
  const { fields, next } = r.peekFields(s);
  if (next !== s.offset + s.length) return undefined;
  const names: string[] = [];
  for (const v of fields) {
    if (v.number !== SPARSE_VALUES || v.wireType !== WIRE_LEN) continue;
    const t = peekTensorName(r, { offset: v.offset, length: v.length });
    if (!t.done || (t.name !== undefined && typeof t.name !== 'string')) return undefined;
    if (t.name !== undefined) names.push(t.name);
  }
  return names;
}

/** Reads the initializer names the hop did not see, only while some graph input might still be one of them (an
 * input is left out iff an initializer has its name, so inputs already matched need nothing more, and a name of
 * another byte length cannot match). Each pending initializer is independent: they are read concurrently. */
async function resolveInitializerNames(file: RandomAccessFile, g: GraphScan): Promise<void> {
  const unresolved = new Set(g.inputs.map((v) => v.name ?? '').filter((n) => !g.initializers.has(n)));
  if (unresolved.size === 0) return;
  const lengths = () => new Set([...unresolved].map((n) => Buffer.byteLength(n)));
  let wanted = lengths();
  const found = (name: string | undefined) => {
    if (name === undefined) return;
    g.initializers.add(name);
    if (unresolved.delete(name)) wanted = lengths();
  };
  const nameAt = async (r: WireReader, at: { offset: number; length: number }) =>
    wanted.has(at.length) ? (await r.bytes(at.offset, at.length, MAX_STRING_BYTES, 'initializer name')).toString('utf8') : undefined;

  // On a corrupt initializer no further one is read, and the reads running have all finished before the error is
  // thrown: no read outlives the inference.
  await forEachConcurrently(g.pending, NAME_READS_IN_FLIGHT, async (p) => {
    if (unresolved.size === 0) return;
    const r = new WireReader(file, { jumpWindow: INITIALIZER_HEAD });
    if (p.kind === 'bytes') found(await nameAt(r, p));
    else if (p.kind === 'tensor') found(await tensorName(r, p.span, p.from, p.name, nameAt));
    else {
      for await (const v of r.fields(p.span)) {
        if (v.number !== SPARSE_VALUES || v.wireType !== WIRE_LEN) continue;
        found(await tensorName(r, span(file, v, 'sparse_initializer.values'), v.offset, undefined, nameAt));
      }
    }
  });
}

/** A TensorProto's name (the last name field), scanning its fields from `from` past its data without reading it;
 * the name's bytes are read only if `read` wants them. */
async function tensorName(
  r: WireReader,
  s: Span,
  from: number,
  soFar: NameSoFar,
  read: (r: WireReader, at: { offset: number; length: number }) => Promise<string | undefined>,
): Promise<string | undefined> {
  let name = soFar;
  for await (const f of r.fields(s, from)) {
    if (f.number === TENSOR_NAME && f.wireType === WIRE_LEN) name = { offset: f.offset, length: f.length };
  }
  return typeof name === 'string' || name === undefined ? name : read(r, name);
}

function toField(v: ValueInfoMsg, where: string, key: string, metadata: Record<string, string>): Field {
  const opaque = findOpaque(v.type, 0);
  if (opaque) {
    // No contract type says "opaque": the field stays, the opaque part of its type unspecified, and the metadata
    // says why (rather than failing the whole contract over one field).
    metadata[`onnx.note.${key}`] = `opaque type ${opaque.domain ?? ''}.${opaque.name ?? ''} has no contract equivalent: type left unspecified`;
  }
  return field(v.name ?? '', valueType(v.type, where, 0));
}

/** The opaque type anywhere in a type (a sequence, map or optional of one), if any. */
function findOpaque(t: TypeMsg | undefined, depth: number): { domain?: string; name?: string } | undefined {
  if (!t || depth > MAX_TYPE_DEPTH) return undefined; // too deep: valueType reports it
  if (t.opaque_type) return t.opaque_type;
  return findOpaque(t.sequence_type?.elem_type ?? t.optional_type?.elem_type ?? t.map_type?.value_type, depth + 1);
}

function valueType(t: TypeMsg | undefined, where: string, depth: number): ValueType {
  if (depth > MAX_TYPE_DEPTH) throw new KilnError('INVALID_ARGUMENT', `types nest more than ${MAX_TYPE_DEPTH} deep`, where);
  if (!t) return { type: 'tensor', tensor: { dtype: 'DATA_TYPE_UNSPECIFIED', shape: null } }; // type not given
  if (t.tensor_type) {
    return { type: 'tensor', tensor: { dtype: dtype(t.tensor_type.elem_type), shape: shape(t.tensor_type.shape) } };
  }
  if (t.sparse_tensor_type) {
    const s = t.sparse_tensor_type;
    return { type: 'sparseTensor', sparseTensor: { dtype: dtype(s.elem_type), shape: shape(s.shape) } };
  }
  if (t.sequence_type) {
    return { type: 'sequence', sequence: { elementType: valueType(t.sequence_type.elem_type, where, depth + 1) } };
  }
  if (t.map_type) {
    const m = t.map_type;
    return { type: 'map', map: { keyType: dtype(m.key_type), valueType: valueType(m.value_type, where, depth + 1) } };
  }
  if (t.optional_type) {
    return { type: 'optional', optional: { elementType: valueType(t.optional_type.elem_type, where, depth + 1) } };
  }
  if (t.opaque_type) return { type: 'tensor', tensor: { dtype: 'DATA_TYPE_UNSPECIFIED', shape: null } }; // noted in toField
  return { type: 'tensor', tensor: { dtype: 'DATA_TYPE_UNSPECIFIED', shape: null } }; // an empty TypeProto
}

const dtype = (n: number | undefined): DataType => onnxDataType(n ?? 0);

/** No shape field means unknown rank (null); a dim is a size, a named unknown, or an unnamed unknown. */
function shape(s: ShapeMsg | undefined): { dims: Dim[] } | null {
  if (!s) return null;
  return {
    dims: (s.dim ?? []).map((d) =>
      d.dim_value !== undefined ? { size: d.dim_value, name: '' } : { size: -1, name: d.dim_param ?? '' },
    ),
  };
}
