// Original file: proto/kiln/v1/aliases.proto

import type { Long } from '@grpc/proto-loader';

export interface SetModelAliasRequest {
  'model'?: (string);
  'alias'?: (string);
  'version'?: (number | string | Long);
  'protected'?: (boolean);
  'allowBreakingChanges'?: (boolean);
  'reason'?: (string);
}

export interface SetModelAliasRequest__Output {
  'model': (string);
  'alias': (string);
  'version': (number);
  'protected': (boolean);
  'allowBreakingChanges': (boolean);
  'reason': (string);
}
