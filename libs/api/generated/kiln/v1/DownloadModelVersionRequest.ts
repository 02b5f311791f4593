// Original file: proto/kiln/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

export interface DownloadModelVersionRequest {
  'model'?: (string);
  'version'?: (number | string | Long);
  'paths'?: (string)[];
  'alias'?: (string);
}

export interface DownloadModelVersionRequest__Output {
  'model': (string);
  'version': (number);
  'paths': (string)[];
  'alias': (string);
}
