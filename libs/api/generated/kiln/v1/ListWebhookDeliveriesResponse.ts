// Original file: proto/kiln/v1/webhooks.proto

import type { WebhookDelivery as _kiln_v1_WebhookDelivery, WebhookDelivery__Output as _kiln_v1_WebhookDelivery__Output } from '../../kiln/v1/WebhookDelivery';

export interface ListWebhookDeliveriesResponse {
  'deliveries'?: (_kiln_v1_WebhookDelivery)[];
  'nextPageToken'?: (string);
}

export interface ListWebhookDeliveriesResponse__Output {
  'deliveries': (_kiln_v1_WebhookDelivery__Output)[];
  'nextPageToken': (string);
}
