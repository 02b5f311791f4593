// Original file: proto/kiln/v1/builder.proto


export interface UntagModelVersionRequest {
  'model'?: (string);
  'tag'?: (string);
  'imageDigest'?: (string);
}

export interface UntagModelVersionRequest__Output {
  'model': (string);
  'tag': (string);
  'imageDigest': (string);
}
