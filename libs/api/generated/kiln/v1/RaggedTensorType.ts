// Original file: proto/kiln/v1/contract.proto

import type { DataType as _kiln_v1_DataType, DataType__Output as _kiln_v1_DataType__Output } from '../../kiln/v1/DataType';
import type { Shape as _kiln_v1_Shape, Shape__Output as _kiln_v1_Shape__Output } from '../../kiln/v1/Shape';

export interface RaggedTensorType {
  'dtype'?: (_kiln_v1_DataType);
  'shape'?: (_kiln_v1_Shape | null);
  'raggedRank'?: (number);
  'rowSplitsDtype'?: (_kiln_v1_DataType);
}

export interface RaggedTensorType__Output {
  'dtype': (_kiln_v1_DataType__Output);
  'shape': (_kiln_v1_Shape__Output | null);
  'raggedRank': (number);
  'rowSplitsDtype': (_kiln_v1_DataType__Output);
}
