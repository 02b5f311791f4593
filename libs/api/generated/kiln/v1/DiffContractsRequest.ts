// Original file: proto/kiln/v1/diff.proto

import type { VersionSelector as _kiln_v1_VersionSelector, VersionSelector__Output as _kiln_v1_VersionSelector__Output } from '../../kiln/v1/VersionSelector';
import type { Contract as _kiln_v1_Contract, Contract__Output as _kiln_v1_Contract__Output } from '../../kiln/v1/Contract';

export interface DiffContractsRequest {
  'against'?: (_kiln_v1_VersionSelector | null);
  'version'?: (_kiln_v1_VersionSelector | null);
  'contract'?: (_kiln_v1_Contract | null);
  'candidate'?: "version"|"contract";
}

export interface DiffContractsRequest__Output {
  'against': (_kiln_v1_VersionSelector__Output | null);
  'version'?: (_kiln_v1_VersionSelector__Output | null);
  'contract'?: (_kiln_v1_Contract__Output | null);
  'candidate'?: "version"|"contract";
}
