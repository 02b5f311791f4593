// Original file: proto/kiln/v1/contract.proto

import type { Dim as _kiln_v1_Dim, Dim__Output as _kiln_v1_Dim__Output } from '../../kiln/v1/Dim';

export interface Shape {
  'dims'?: (_kiln_v1_Dim)[];
}

export interface Shape__Output {
  'dims': (_kiln_v1_Dim__Output)[];
}
