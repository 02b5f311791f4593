// Original file: proto/kiln/v1/builder.proto


export interface UntagModelVersionResponse {
  'imageReference'?: (string);
  'removed'?: (boolean);
  'detail'?: (string);
}

export interface UntagModelVersionResponse__Output {
  'imageReference': (string);
  'removed': (boolean);
  'detail': (string);
}
