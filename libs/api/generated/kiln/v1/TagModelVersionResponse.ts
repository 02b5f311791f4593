// Original file: proto/kiln/v1/builder.proto


export interface TagModelVersionResponse {
  'imageReference'?: (string);
  'imageDigest'?: (string);
}

export interface TagModelVersionResponse__Output {
  'imageReference': (string);
  'imageDigest': (string);
}
