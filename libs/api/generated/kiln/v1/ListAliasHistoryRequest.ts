// Original file: proto/kiln/v1/aliases.proto


export interface ListAliasHistoryRequest {
  'model'?: (string);
  'alias'?: (string);
  'pageSize'?: (number);
  'pageToken'?: (string);
}

export interface ListAliasHistoryRequest__Output {
  'model': (string);
  'alias': (string);
  'pageSize': (number);
  'pageToken': (string);
}
