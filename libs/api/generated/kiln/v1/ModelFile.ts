// Original file: proto/kiln/v1/model.proto

import type { Long } from '@grpc/proto-loader';

export interface ModelFile {
  'path'?: (string);
  'size'?: (number | string | Long);
  'sha256'?: (string);
  'executable'?: (boolean);
}

export interface ModelFile__Output {
  'path': (string);
  'size': (number);
  'sha256': (string);
  'executable': (boolean);
}
