// Original file: proto/kiln/v1/aliases.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

export interface AliasMove {
  'alias'?: (string);
  'fromVersion'?: (number | string | Long);
  'toVersion'?: (number | string | Long);
  'caller'?: (string);
  'time'?: (_google_protobuf_Timestamp | null);
  'reason'?: (string);
  'breaking'?: (boolean);
  'protected'?: (boolean);
}

export interface AliasMove__Output {
  'alias': (string);
  'fromVersion': (number);
  'toVersion': (number);
  'caller': (string);
  'time': (_google_protobuf_Timestamp__Output | null);
  'reason': (string);
  'breaking': (boolean);
  'protected': (boolean);
}
