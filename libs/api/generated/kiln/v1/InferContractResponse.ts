// Original file: proto/kiln/v1/inference.proto

import type { Contract as _kiln_v1_Contract, Contract__Output as _kiln_v1_Contract__Output } from '../../kiln/v1/Contract';

export interface InferContractResponse {
  'contract'?: (_kiln_v1_Contract | null);
  'metadata'?: ({[key: string]: string});
  'format'?: (string);
}

export interface InferContractResponse__Output {
  'contract': (_kiln_v1_Contract__Output | null);
  'metadata': ({[key: string]: string});
  'format': (string);
}
