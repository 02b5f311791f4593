// Original file: proto/kiln/v1/events.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { EventKind as _kiln_v1_EventKind, EventKind__Output as _kiln_v1_EventKind__Output } from '../../kiln/v1/EventKind';
import type { Long } from '@grpc/proto-loader';

export interface RegistryEvent {
  'resumeToken'?: (string);
  'time'?: (_google_protobuf_Timestamp | null);
  'kind'?: (_kiln_v1_EventKind);
  'model'?: (string);
  'namespace'?: (string);
  'version'?: (number | string | Long);
  'alias'?: (string);
  'previousVersion'?: (number | string | Long);
  'caller'?: (string);
  'labels'?: ({[key: string]: string});
  'image'?: (string);
  'failureReason'?: (string);
}

export interface RegistryEvent__Output {
  'resumeToken': (string);
  'time': (_google_protobuf_Timestamp__Output | null);
  'kind': (_kiln_v1_EventKind__Output);
  'model': (string);
  'namespace': (string);
  'version': (number);
  'alias': (string);
  'previousVersion': (number);
  'caller': (string);
  'labels': ({[key: string]: string});
  'image': (string);
  'failureReason': (string);
}
