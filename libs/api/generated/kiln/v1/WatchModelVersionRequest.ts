// Original file: proto/kiln/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

export interface WatchModelVersionRequest {
  'model'?: (string);
  'version'?: (number | string | Long);
  'alias'?: (string);
}

export interface WatchModelVersionRequest__Output {
  'model': (string);
  'version': (number);
  'alias': (string);
}
