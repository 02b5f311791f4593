// Original file: proto/kiln/v1/tokens.proto

import type { Token as _kiln_v1_Token, Token__Output as _kiln_v1_Token__Output } from '../../kiln/v1/Token';

export interface ListTokensResponse {
  'tokens'?: (_kiln_v1_Token)[];
  'nextPageToken'?: (string);
}

export interface ListTokensResponse__Output {
  'tokens': (_kiln_v1_Token__Output)[];
  'nextPageToken': (string);
}
