// Original file: proto/kiln/v1/contract.proto

import type { TensorType as _kiln_v1_TensorType, TensorType__Output as _kiln_v1_TensorType__Output } from '../../kiln/v1/TensorType';
import type { SequenceType as _kiln_v1_SequenceType, SequenceType__Output as _kiln_v1_SequenceType__Output } from '../../kiln/v1/SequenceType';
import type { MapType as _kiln_v1_MapType, MapType__Output as _kiln_v1_MapType__Output } from '../../kiln/v1/MapType';
import type { OptionalType as _kiln_v1_OptionalType, OptionalType__Output as _kiln_v1_OptionalType__Output } from '../../kiln/v1/OptionalType';
import type { SparseTensorType as _kiln_v1_SparseTensorType, SparseTensorType__Output as _kiln_v1_SparseTensorType__Output } from '../../kiln/v1/SparseTensorType';
import type { RaggedTensorType as _kiln_v1_RaggedTensorType, RaggedTensorType__Output as _kiln_v1_RaggedTensorType__Output } from '../../kiln/v1/RaggedTensorType';

export interface ValueType {
  'tensor'?: (_kiln_v1_TensorType | null);
  'sequence'?: (_kiln_v1_SequenceType | null);
  'map'?: (_kiln_v1_MapType | null);
  'optional'?: (_kiln_v1_OptionalType | null);
  'sparseTensor'?: (_kiln_v1_SparseTensorType | null);
  'raggedTensor'?: (_kiln_v1_RaggedTensorType | null);
  'type'?: "tensor"|"sequence"|"map"|"optional"|"sparseTensor"|"raggedTensor";
}

export interface ValueType__Output {
  'tensor'?: (_kiln_v1_TensorType__Output | null);
  'sequence'?: (_kiln_v1_SequenceType__Output | null);
  'map'?: (_kiln_v1_MapType__Output | null);
  'optional'?: (_kiln_v1_OptionalType__Output | null);
  'sparseTensor'?: (_kiln_v1_SparseTensorType__Output | null);
  'raggedTensor'?: (_kiln_v1_RaggedTensorType__Output | null);
  'type'?: "tensor"|"sequence"|"map"|"optional"|"sparseTensor"|"raggedTensor";
}
