// Original file: proto/kiln/v1/diff.proto

import type { ContractChange as _kiln_v1_ContractChange, ContractChange__Output as _kiln_v1_ContractChange__Output } from '../../kiln/v1/ContractChange';
import type { Long } from '@grpc/proto-loader';

export interface DiffContractsResponse {
  'changes'?: (_kiln_v1_ContractChange)[];
  'breaking'?: (boolean);
  'againstVersion'?: (number | string | Long);
  'candidateVersion'?: (number | string | Long);
}

export interface DiffContractsResponse__Output {
  'changes': (_kiln_v1_ContractChange__Output)[];
  'breaking': (boolean);
  'againstVersion': (number);
  'candidateVersion': (number);
}
