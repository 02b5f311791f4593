// Original file: proto/kiln/v1/events.proto

import type { EventKind as _kiln_v1_EventKind, EventKind__Output as _kiln_v1_EventKind__Output } from '../../kiln/v1/EventKind';

export interface WatchModelsRequest {
  'namespace'?: (string);
  'model'?: (string);
  'resumeToken'?: (string);
  'kinds'?: (_kiln_v1_EventKind)[];
}

export interface WatchModelsRequest__Output {
  'namespace': (string);
  'model': (string);
  'resumeToken': (string);
  'kinds': (_kiln_v1_EventKind__Output)[];
}
