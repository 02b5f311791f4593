// Original file: proto/kiln/v1/webhooks.proto

import type { Webhook as _kiln_v1_Webhook, Webhook__Output as _kiln_v1_Webhook__Output } from '../../kiln/v1/Webhook';

export interface ListWebhooksResponse {
  'webhooks'?: (_kiln_v1_Webhook)[];
  'nextPageToken'?: (string);
}

export interface ListWebhooksResponse__Output {
  'webhooks': (_kiln_v1_Webhook__Output)[];
  'nextPageToken': (string);
}
