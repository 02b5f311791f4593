// Original file: proto/kiln/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

export interface BuildLogLine {
  'line'?: (string);
  'number'?: (number | string | Long);
}

export interface BuildLogLine__Output {
  'line': (string);
  'number': (number);
}
