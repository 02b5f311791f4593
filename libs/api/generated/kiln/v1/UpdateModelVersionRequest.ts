// Original file: proto/kiln/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

export interface UpdateModelVersionRequest {
  'model'?: (string);
  'version'?: (number | string | Long);
  'setLabels'?: ({[key: string]: string});
  'removeLabels'?: (string)[];
  'description'?: (string);
  '_description'?: "description";
}

export interface UpdateModelVersionRequest__Output {
  'model': (string);
  'version': (number);
  'setLabels': ({[key: string]: string});
  'removeLabels': (string)[];
  'description'?: (string);
  '_description'?: "description";
}
