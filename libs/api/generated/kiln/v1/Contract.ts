// Original file: proto/kiln/v1/contract.proto

import type { Signature as _kiln_v1_Signature, Signature__Output as _kiln_v1_Signature__Output } from '../../kiln/v1/Signature';

export interface Contract {
  'signatures'?: (_kiln_v1_Signature)[];
  'source'?: (string);
}

export interface Contract__Output {
  'signatures': (_kiln_v1_Signature__Output)[];
  'source': (string);
}
