// Original file: proto/kiln/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

export interface DeleteModelVersionRequest {
  'model'?: (string);
  'version'?: (number | string | Long);
}

export interface DeleteModelVersionRequest__Output {
  'model': (string);
  'version': (number);
}
