// Original file: proto/kiln/v1/audit.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface ListAuditEventsRequest {
  'pageSize'?: (number);
  'pageToken'?: (string);
  'model'?: (string);
  'namespace'?: (string);
  'caller'?: (string);
  'rpc'?: (string);
  'result'?: (string);
  'startTime'?: (_google_protobuf_Timestamp | null);
  'endTime'?: (_google_protobuf_Timestamp | null);
}

export interface ListAuditEventsRequest__Output {
  'pageSize': (number);
  'pageToken': (string);
  'model': (string);
  'namespace': (string);
  'caller': (string);
  'rpc': (string);
  'result': (string);
  'startTime': (_google_protobuf_Timestamp__Output | null);
  'endTime': (_google_protobuf_Timestamp__Output | null);
}
