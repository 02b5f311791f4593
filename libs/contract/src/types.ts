// The contract model: plain data with the same shape as kiln.v1.Contract in proto-loader's object form
// (lowerCamelCase fields, enums as their names), so parsers build it without any gRPC code and the registry sends
// it as is.

/** kiln.v1.DataType names: ONNX's TensorProto.DataType (same numbers) plus TensorFlow-only types from 100. */
export const DATA_TYPES = {
  DATA_TYPE_UNSPECIFIED: 0,
  DATA_TYPE_FLOAT: 1,
  DATA_TYPE_UINT8: 2,
  DATA_TYPE_INT8: 3,
  DATA_TYPE_UINT16: 4,
  DATA_TYPE_INT16: 5,
  DATA_TYPE_INT32: 6,
  DATA_TYPE_INT64: 7,
  DATA_TYPE_STRING: 8,
  DATA_TYPE_BOOL: 9,
  DATA_TYPE_FLOAT16: 10,
  DATA_TYPE_DOUBLE: 11,
  DATA_TYPE_UINT32: 12,
  DATA_TYPE_UINT64: 13,
  DATA_TYPE_COMPLEX64: 14,
  DATA_TYPE_COMPLEX128: 15,
  DATA_TYPE_BFLOAT16: 16,
  DATA_TYPE_FLOAT8E4M3FN: 17,
  DATA_TYPE_FLOAT8E4M3FNUZ: 18,
  DATA_TYPE_FLOAT8E5M2: 19,
  DATA_TYPE_FLOAT8E5M2FNUZ: 20,
  DATA_TYPE_UINT4: 21,
  DATA_TYPE_INT4: 22,
  DATA_TYPE_FLOAT4E2M1: 23,
  DATA_TYPE_FLOAT8E8M0: 24,
  DATA_TYPE_UINT2: 25,
  DATA_TYPE_INT2: 26,
  DATA_TYPE_FLOAT6E2M3: 27,
  DATA_TYPE_FLOAT6E3M2: 28,
  DATA_TYPE_QINT8: 100,
  DATA_TYPE_QUINT8: 101,
  DATA_TYPE_QINT16: 102,
  DATA_TYPE_QUINT16: 103,
  DATA_TYPE_QINT32: 104,
  DATA_TYPE_RESOURCE: 105,
  DATA_TYPE_VARIANT: 106,
  DATA_TYPE_FLOAT8E4M3B11FNUZ: 107,
} as const;

export type DataType = keyof typeof DATA_TYPES;

export type DataProfile =
  | 'DATA_PROFILE_UNSPECIFIED'
  | 'DATA_PROFILE_NUMERICAL'
  | 'DATA_PROFILE_TEXT'
  | 'DATA_PROFILE_IMAGE'
  | 'DATA_PROFILE_CATEGORICAL'
  | 'DATA_PROFILE_ORDINAL'
  | 'DATA_PROFILE_AUDIO'
  | 'DATA_PROFILE_VIDEO';

export interface Dim {
  /** -1 when unknown. */
  size: number;
  /** Symbolic name of an unknown dim (ONNX dim_param); '' when none. */
  name: string;
}

export interface Shape {
  dims: Dim[];
}

export interface TensorType {
  dtype: DataType;
  /** Absent (null) when the rank is unknown. */
  shape: Shape | null;
}

export interface SparseTensorType {
  dtype: DataType;
  shape: Shape | null;
}

export interface RaggedTensorType {
  dtype: DataType;
  shape: Shape | null;
  raggedRank: number;
  rowSplitsDtype: DataType;
}

export interface SequenceType {
  elementType: ValueType;
}

export interface MapType {
  keyType: DataType;
  valueType: ValueType;
}

export interface OptionalType {
  elementType: ValueType;
}

/** Exactly one member is set, named by `type` (proto oneof). */
export type ValueType =
  | { type: 'tensor'; tensor: TensorType }
  | { type: 'sequence'; sequence: SequenceType }
  | { type: 'map'; map: MapType }
  | { type: 'optional'; optional: OptionalType }
  | { type: 'sparseTensor'; sparseTensor: SparseTensorType }
  | { type: 'raggedTensor'; raggedTensor: RaggedTensorType };

export type Field = ValueType & {
  name: string;
  profile: DataProfile;
};

export interface Signature {
  name: string;
  /** TensorFlow method name, '' elsewhere. */
  method: string;
  inputs: Field[];
  outputs: Field[];
  /** SavedModel MetaGraphDef tags, [] elsewhere. */
  tags: string[];
}

export type ContractSource = 'savedmodel' | 'onnx' | 'spark' | 'keras' | 'manifest';

export interface Contract {
  signatures: Signature[];
  source: ContractSource;
}

/** What a format module returns: the contract and any metadata the files carry (ONNX producer, opsets...). */
export interface InferenceResult {
  contract: Contract;
  metadata: Record<string, string>;
}

// Small constructors so every parser builds fields the same way.
export const unknownDim = (name = ''): Dim => ({ size: -1, name });
export const dim = (size: number, name = ''): Dim => ({ size, name });
export const tensor = (dtype: DataType, dims: Dim[] | null): { type: 'tensor'; tensor: TensorType } => ({
  type: 'tensor',
  tensor: { dtype, shape: dims ? { dims } : null },
});
export function field(name: string, type: ValueType, profile: DataProfile = 'DATA_PROFILE_UNSPECIFIED'): Field {
  return { name, profile, ...type } as Field;
}
