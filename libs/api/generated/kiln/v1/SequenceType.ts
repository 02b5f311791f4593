// Original file: proto/kiln/v1/contract.proto

import type { ValueType as _kiln_v1_ValueType, ValueType__Output as _kiln_v1_ValueType__Output } from '../../kiln/v1/ValueType';

export interface SequenceType {
  'elementType'?: (_kiln_v1_ValueType | null);
}

export interface SequenceType__Output {
  'elementType': (_kiln_v1_ValueType__Output | null);
}
