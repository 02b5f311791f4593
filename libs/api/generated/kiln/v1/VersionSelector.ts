// Original file: proto/kiln/v1/diff.proto

import type { Long } from '@grpc/proto-loader';

export interface VersionSelector {
  'model'?: (string);
  'version'?: (number | string | Long);
  'alias'?: (string);
}

export interface VersionSelector__Output {
  'model': (string);
  'version': (number);
  'alias': (string);
}
