// Original file: proto/kiln/v1/contract.proto

import type { Long } from '@grpc/proto-loader';

export interface Dim {
  'size'?: (number | string | Long);
  'name'?: (string);
}

export interface Dim__Output {
  'size': (number);
  'name': (string);
}
