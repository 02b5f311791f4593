// Original file: proto/kiln/v1/builder.proto

import type { Long } from '@grpc/proto-loader';

export interface BuildModelVersionRequest {
  'model'?: (string);
  'version'?: (number | string | Long);
}

export interface BuildModelVersionRequest__Output {
  'model': (string);
  'version': (number);
}
