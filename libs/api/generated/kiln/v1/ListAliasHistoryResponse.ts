// Original file: proto/kiln/v1/aliases.proto

import type { AliasMove as _kiln_v1_AliasMove, AliasMove__Output as _kiln_v1_AliasMove__Output } from '../../kiln/v1/AliasMove';

export interface ListAliasHistoryResponse {
  'moves'?: (_kiln_v1_AliasMove)[];
  'nextPageToken'?: (string);
}

export interface ListAliasHistoryResponse__Output {
  'moves': (_kiln_v1_AliasMove__Output)[];
  'nextPageToken': (string);
}
