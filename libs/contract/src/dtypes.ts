// Element types: TensorFlow's DT_* enum (types.proto) mapped onto Kiln's DataType, and ONNX's elem_type numbers.
import { DATA_TYPES, type DataType } from './types';

/** TensorFlow DataType number -> [DT_ name, Kiln DataType]. Numbers from tensorflow/core/framework/types.proto. */
const TF_TYPES: ReadonlyArray<readonly [number, string, DataType]> = [
  [0, 'DT_INVALID', 'DATA_TYPE_UNSPECIFIED'],
  [1, 'DT_FLOAT', 'DATA_TYPE_FLOAT'],
  [2, 'DT_DOUBLE', 'DATA_TYPE_DOUBLE'],
  [3, 'DT_INT32', 'DATA_TYPE_INT32'],
  [4, 'DT_UINT8', 'DATA_TYPE_UINT8'],
  [5, 'DT_INT16', 'DATA_TYPE_INT16'],
  [6, 'DT_INT8', 'DATA_TYPE_INT8'],
  [7, 'DT_STRING', 'DATA_TYPE_STRING'],
  [8, 'DT_COMPLEX64', 'DATA_TYPE_COMPLEX64'],
  [9, 'DT_INT64', 'DATA_TYPE_INT64'],
  [10, 'DT_BOOL', 'DATA_TYPE_BOOL'],
  [11, 'DT_QINT8', 'DATA_TYPE_QINT8'],
  [12, 'DT_QUINT8', 'DATA_TYPE_QUINT8'],
  [13, 'DT_QINT32', 'DATA_TYPE_QINT32'],
  [14, 'DT_BFLOAT16', 'DATA_TYPE_BFLOAT16'],
  [15, 'DT_QINT16', 'DATA_TYPE_QINT16'],
  [16, 'DT_QUINT16', 'DATA_TYPE_QUINT16'],
  [17, 'DT_UINT16', 'DATA_TYPE_UINT16'],
  [18, 'DT_COMPLEX128', 'DATA_TYPE_COMPLEX128'],
  [19, 'DT_HALF', 'DATA_TYPE_FLOAT16'],
  [20, 'DT_RESOURCE', 'DATA_TYPE_RESOURCE'],
  [21, 'DT_VARIANT', 'DATA_TYPE_VARIANT'],
  [22, 'DT_UINT32', 'DATA_TYPE_UINT32'],
  [23, 'DT_UINT64', 'DATA_TYPE_UINT64'],
  [24, 'DT_FLOAT8_E5M2', 'DATA_TYPE_FLOAT8E5M2'],
  [25, 'DT_FLOAT8_E4M3FN', 'DATA_TYPE_FLOAT8E4M3FN'],
  [26, 'DT_FLOAT8_E4M3FNUZ', 'DATA_TYPE_FLOAT8E4M3FNUZ'],
  [27, 'DT_FLOAT8_E4M3B11FNUZ', 'DATA_TYPE_FLOAT8E4M3B11FNUZ'],
  [28, 'DT_FLOAT8_E5M2FNUZ', 'DATA_TYPE_FLOAT8E5M2FNUZ'],
  [29, 'DT_INT4', 'DATA_TYPE_INT4'],
  [30, 'DT_UINT4', 'DATA_TYPE_UINT4'],
  [31, 'DT_INT2', 'DATA_TYPE_INT2'],
  [32, 'DT_UINT2', 'DATA_TYPE_UINT2'],
  [33, 'DT_FLOAT4_E2M1FN', 'DATA_TYPE_FLOAT4E2M1'],
];

/** Reference types (DT_FLOAT_REF = DT_FLOAT + 100, used by TF1 variables) are the same element type. */
const TF_REF_OFFSET = 100;

const tfByNumber = new Map(TF_TYPES.map(([n, , t]) => [n, t]));

/** DT_ name -> number, for protobuf text format (SavedModel .pbtxt), _REF names included. */
export const TF_DTYPE_NUMBERS: Readonly<Record<string, number>> = Object.fromEntries(
  TF_TYPES.flatMap(([n, name]) => (n === 0 ? [[name, n]] : [[name, n], [`${name}_REF`, n + TF_REF_OFFSET]])),
);

/** A TensorFlow DataType number as a Kiln DataType; unknown numbers are DATA_TYPE_UNSPECIFIED. */
export function tfDataType(n: number): DataType {
  const base = n > TF_REF_OFFSET ? n - TF_REF_OFFSET : n;
  return tfByNumber.get(base) ?? 'DATA_TYPE_UNSPECIFIED';
}

const kilnByNumber = new Map(Object.entries(DATA_TYPES).map(([name, n]) => [n as number, name as DataType]));

/** An ONNX TensorProto.DataType number as a Kiln DataType: the numbers below 100 are ONNX's own. Types newer than
 * Kiln's enum (and anything out of range) are DATA_TYPE_UNSPECIFIED. */
export function onnxDataType(n: number): DataType {
  return n >= 0 && n < 100 ? (kilnByNumber.get(n) ?? 'DATA_TYPE_UNSPECIFIED') : 'DATA_TYPE_UNSPECIFIED';
}
