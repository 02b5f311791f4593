// Original file: proto/kiln/v1/aliases.proto


export interface ListModelAliasesRequest {
  'model'?: (string);
}

export interface ListModelAliasesRequest__Output {
  'model': (string);
}
