// Original file: proto/kiln/v1/tokens.proto


export interface ListTokensRequest {
  'pageSize'?: (number);
  'pageToken'?: (string);
  'showRevoked'?: (boolean);
}

export interface ListTokensRequest__Output {
  'pageSize': (number);
  'pageToken': (string);
  'showRevoked': (boolean);
}
