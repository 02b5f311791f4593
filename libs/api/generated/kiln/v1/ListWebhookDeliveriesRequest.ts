// Original file: proto/kiln/v1/webhooks.proto


export interface ListWebhookDeliveriesRequest {
  'webhookId'?: (string);
  'pageSize'?: (number);
  'pageToken'?: (string);
}

export interface ListWebhookDeliveriesRequest__Output {
  'webhookId': (string);
  'pageSize': (number);
  'pageToken': (string);
}
