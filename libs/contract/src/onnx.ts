// ONNX contract inference: the graph's inputs (minus initializers) and outputs, read from the ModelProto's metadata
// with the wire scanner, so weights (inline or external) are skipped, never read.
import { KilnError } from '@kiln/errors';
import type { ContractFormat, FileEntry } from './format';
import type { ModelFiles, RandomAccessFile } from './source';
import { field, type DataType, type Dim, type Field, type InferenceResult, type ValueType } from './types';
import { onnxDataType } from './dtypes';
import { int64Varint, schema, span, wholeFile, WireReader, WIRE_LEN, type Span, type WireField } from './wire';

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

interface GraphScan {
  name?: string;
  inputs: ValueInfoMsg[];
  outputs: ValueInfoMsg[];
  initializers: Set<string>;
  seen: boolean;
}

/** The .onnx file a model is: the shallowest, then the first by path. */
function pickOnnxFile(files: FileEntry[]): string | undefined {
  const onnx = files.filter((f) => f.path.toLowerCase().endsWith('.onnx'));
  const depth = (p: string) => p.split('/').length;
  onnx.sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
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
  const r = new WireReader(file);
  const metadata: Record<string, string> = {};
  const graph: GraphScan = { inputs: [], outputs: [], initializers: new Set(), seen: false };
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

  const where = (kind: string, i: number) => `${file.path}: graph.${kind}[${i}]`;
  const inputs = graph.inputs
    .map((v, i) => ({ v, i }))
    .filter(({ v }) => !graph.initializers.has(v.name ?? ''))
    .map(({ v, i }) => toField(v, where('input', i)));
  const outputs = graph.outputs.map((v, i) => toField(v, where('output', i)));
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
        const name = await tensorName(r, span(r.file, f, 'initializer'));
        if (name !== undefined) g.initializers.add(name);
        break;
      }
      case GRAPH.sparseInitializer:
        for await (const v of r.fields(span(r.file, f, 'sparse_initializer'))) {
          if (v.number !== SPARSE_VALUES || v.wireType !== WIRE_LEN) continue;
          const name = await tensorName(r, span(r.file, v, 'sparse_initializer.values'));
          if (name !== undefined) g.initializers.add(name);
        }
        break;
      default:
        break; // nodes, value_info, doc_string...: skipped without reading
    }
  }
}

/** A TensorProto's name, scanning past its data (raw_data and the typed arrays are never read). */
async function tensorName(r: WireReader, s: Span): Promise<string | undefined> {
  let name: string | undefined;
  for await (const f of r.fields(s)) {
    if (f.number === TENSOR_NAME) name = await r.string(f, 'initializer name');
  }
  return name;
}

function toField(v: ValueInfoMsg, where: string): Field {
  return field(v.name ?? '', valueType(v.type, where, 0));
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
  if (t.opaque_type) {
    const o = t.opaque_type;
    throw new KilnError('INVALID_ARGUMENT', `opaque type ${o.domain ?? ''}.${o.name ?? ''} has no contract equivalent`, where);
  }
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
