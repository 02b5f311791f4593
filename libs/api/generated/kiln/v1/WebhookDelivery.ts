// Original file: proto/kiln/v1/webhooks.proto

import type { EventKind as _kiln_v1_EventKind, EventKind__Output as _kiln_v1_EventKind__Output } from '../../kiln/v1/EventKind';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

export interface WebhookDelivery {
  'webhookId'?: (string);
  'eventId'?: (string);
  'resumeToken'?: (string);
  'kind'?: (_kiln_v1_EventKind);
  'model'?: (string);
  'attempt'?: (number);
  'time'?: (_google_protobuf_Timestamp | null);
  'statusCode'?: (number);
  'error'?: (string);
  'durationMs'?: (number | string | Long);
  'delivered'?: (boolean);
  'finished'?: (boolean);
}

export interface WebhookDelivery__Output {
  'webhookId': (string);
  'eventId': (string);
  'resumeToken': (string);
  'kind': (_kiln_v1_EventKind__Output);
  'model': (string);
  'attempt': (number);
  'time': (_google_protobuf_Timestamp__Output | null);
  'statusCode': (number);
  'error': (string);
  'durationMs': (number);
  'delivered': (boolean);
  'finished': (boolean);
}
