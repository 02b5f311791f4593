// Original file: proto/kiln/v1/contract.proto

import type { DataType as _kiln_v1_DataType, DataType__Output as _kiln_v1_DataType__Output } from '../../kiln/v1/DataType';
import type { ValueType as _kiln_v1_ValueType, ValueType__Output as _kiln_v1_ValueType__Output } from '../../kiln/v1/ValueType';

export interface MapType {
  'keyType'?: (_kiln_v1_DataType);
  'valueType'?: (_kiln_v1_ValueType | null);
}

export interface MapType__Output {
  'keyType': (_kiln_v1_DataType__Output);
  'valueType': (_kiln_v1_ValueType__Output | null);
}
