// Original file: proto/kiln/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

export interface GetModelVersionRequest {
  'model'?: (string);
  'version'?: (number | string | Long);
  'alias'?: (string);
}

export interface GetModelVersionRequest__Output {
  'model': (string);
  'version': (number);
  'alias': (string);
}
