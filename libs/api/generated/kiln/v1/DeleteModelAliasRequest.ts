// Original file: proto/kiln/v1/aliases.proto


export interface DeleteModelAliasRequest {
  'model'?: (string);
  'alias'?: (string);
  'reason'?: (string);
}

export interface DeleteModelAliasRequest__Output {
  'model': (string);
  'alias': (string);
  'reason': (string);
}
