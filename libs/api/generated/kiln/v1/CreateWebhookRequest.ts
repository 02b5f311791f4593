// Original file: proto/kiln/v1/webhooks.proto

import type { EventKind as _kiln_v1_EventKind, EventKind__Output as _kiln_v1_EventKind__Output } from '../../kiln/v1/EventKind';

export interface CreateWebhookRequest {
  'url'?: (string);
  'namespace'?: (string);
  'model'?: (string);
  'kinds'?: (_kiln_v1_EventKind)[];
  'secret'?: (string);
}

export interface CreateWebhookRequest__Output {
  'url': (string);
  'namespace': (string);
  'model': (string);
  'kinds': (_kiln_v1_EventKind__Output)[];
  'secret': (string);
}
