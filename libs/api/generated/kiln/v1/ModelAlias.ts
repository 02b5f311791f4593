// Original file: proto/kiln/v1/aliases.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

export interface ModelAlias {
  'model'?: (string);
  'alias'?: (string);
  'version'?: (number | string | Long);
  'protected'?: (boolean);
  'updateTime'?: (_google_protobuf_Timestamp | null);
  'updatedBy'?: (string);
  'imageReference'?: (string);
  'tagPending'?: (boolean);
  'tagError'?: (string);
}

export interface ModelAlias__Output {
  'model': (string);
  'alias': (string);
  'version': (number);
  'protected': (boolean);
  'updateTime': (_google_protobuf_Timestamp__Output | null);
  'updatedBy': (string);
  'imageReference': (string);
  'tagPending': (boolean);
  'tagError': (string);
}
