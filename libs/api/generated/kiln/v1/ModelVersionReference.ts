// Original file: proto/kiln/v1/inference.proto

import type { Long } from '@grpc/proto-loader';

export interface ModelVersionReference {
  'model'?: (string);
  'version'?: (number | string | Long);
}

export interface ModelVersionReference__Output {
  'model': (string);
  'version': (number);
}
