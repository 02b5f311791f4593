// Original file: proto/kiln/v1/webhooks.proto


export interface EnableWebhookRequest {
  'id'?: (string);
}

export interface EnableWebhookRequest__Output {
  'id': (string);
}
