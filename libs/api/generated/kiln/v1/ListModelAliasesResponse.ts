// Original file: proto/kiln/v1/aliases.proto

import type { ModelAlias as _kiln_v1_ModelAlias, ModelAlias__Output as _kiln_v1_ModelAlias__Output } from '../../kiln/v1/ModelAlias';

export interface ListModelAliasesResponse {
  'aliases'?: (_kiln_v1_ModelAlias)[];
}

export interface ListModelAliasesResponse__Output {
  'aliases': (_kiln_v1_ModelAlias__Output)[];
}
