// Original file: proto/kiln/v1/webhooks.proto

import type { EventKind as _kiln_v1_EventKind, EventKind__Output as _kiln_v1_EventKind__Output } from '../../kiln/v1/EventKind';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface Webhook {
  'id'?: (string);
  'url'?: (string);
  'namespace'?: (string);
  'model'?: (string);
  'kinds'?: (_kiln_v1_EventKind)[];
  'createTime'?: (_google_protobuf_Timestamp | null);
  'createdBy'?: (string);
  'disabled'?: (boolean);
  'disabledReason'?: (string);
  'disableTime'?: (_google_protobuf_Timestamp | null);
  'lastDeliveryTime'?: (_google_protobuf_Timestamp | null);
  'consecutiveFailures'?: (number);
  'nextAttemptTime'?: (_google_protobuf_Timestamp | null);
}

export interface Webhook__Output {
  'id': (string);
  'url': (string);
  'namespace': (string);
  'model': (string);
  'kinds': (_kiln_v1_EventKind__Output)[];
  'createTime': (_google_protobuf_Timestamp__Output | null);
  'createdBy': (string);
  'disabled': (boolean);
  'disabledReason': (string);
  'disableTime': (_google_protobuf_Timestamp__Output | null);
  'lastDeliveryTime': (_google_protobuf_Timestamp__Output | null);
  'consecutiveFailures': (number);
  'nextAttemptTime': (_google_protobuf_Timestamp__Output | null);
}
