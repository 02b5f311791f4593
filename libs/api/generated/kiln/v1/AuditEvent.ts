// Original file: proto/kiln/v1/audit.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

export interface AuditEvent {
  'id'?: (number | string | Long);
  'time'?: (_google_protobuf_Timestamp | null);
  'caller'?: (string);
  'rpc'?: (string);
  'model'?: (string);
  'namespace'?: (string);
  'version'?: (number | string | Long);
  'result'?: (string);
  'message'?: (string);
  'peer'?: (string);
  'callId'?: (string);
}

export interface AuditEvent__Output {
  'id': (number);
  'time': (_google_protobuf_Timestamp__Output | null);
  'caller': (string);
  'rpc': (string);
  'model': (string);
  'namespace': (string);
  'version': (number);
  'result': (string);
  'message': (string);
  'peer': (string);
  'callId': (string);
}
