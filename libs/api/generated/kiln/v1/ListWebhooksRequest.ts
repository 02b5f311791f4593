// Original file: proto/kiln/v1/webhooks.proto


export interface ListWebhooksRequest {
  'pageSize'?: (number);
  'pageToken'?: (string);
}

export interface ListWebhooksRequest__Output {
  'pageSize': (number);
  'pageToken': (string);
}
