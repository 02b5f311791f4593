// Original file: proto/kiln/v1/tokens.proto

import type { Token as _kiln_v1_Token, Token__Output as _kiln_v1_Token__Output } from '../../kiln/v1/Token';

export interface CreateTokenResponse {
  'token'?: (_kiln_v1_Token | null);
  'secret'?: (string);
}

export interface CreateTokenResponse__Output {
  'token': (_kiln_v1_Token__Output | null);
  'secret': (string);
}
