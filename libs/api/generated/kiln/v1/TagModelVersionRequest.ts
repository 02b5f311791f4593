// Original file: proto/kiln/v1/builder.proto

import type { Long } from '@grpc/proto-loader';

export interface TagModelVersionRequest {
  'model'?: (string);
  'version'?: (number | string | Long);
  'tag'?: (string);
  'imageReference'?: (string);
  'imageDigest'?: (string);
}

export interface TagModelVersionRequest__Output {
  'model': (string);
  'version': (number);
  'tag': (string);
  'imageReference': (string);
  'imageDigest': (string);
}
