import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
import type { CreateWebhookRequest as _kiln_v1_CreateWebhookRequest, CreateWebhookRequest__Output as _kiln_v1_CreateWebhookRequest__Output } from './kiln/v1/CreateWebhookRequest';
import type { DeleteWebhookRequest as _kiln_v1_DeleteWebhookRequest, DeleteWebhookRequest__Output as _kiln_v1_DeleteWebhookRequest__Output } from './kiln/v1/DeleteWebhookRequest';
import type { EnableWebhookRequest as _kiln_v1_EnableWebhookRequest, EnableWebhookRequest__Output as _kiln_v1_EnableWebhookRequest__Output } from './kiln/v1/EnableWebhookRequest';
import type { ListWebhookDeliveriesRequest as _kiln_v1_ListWebhookDeliveriesRequest, ListWebhookDeliveriesRequest__Output as _kiln_v1_ListWebhookDeliveriesRequest__Output } from './kiln/v1/ListWebhookDeliveriesRequest';
import type { ListWebhookDeliveriesResponse as _kiln_v1_ListWebhookDeliveriesResponse, ListWebhookDeliveriesResponse__Output as _kiln_v1_ListWebhookDeliveriesResponse__Output } from './kiln/v1/ListWebhookDeliveriesResponse';
import type { ListWebhooksRequest as _kiln_v1_ListWebhooksRequest, ListWebhooksRequest__Output as _kiln_v1_ListWebhooksRequest__Output } from './kiln/v1/ListWebhooksRequest';
import type { ListWebhooksResponse as _kiln_v1_ListWebhooksResponse, ListWebhooksResponse__Output as _kiln_v1_ListWebhooksResponse__Output } from './kiln/v1/ListWebhooksResponse';
import type { RegistryEvent as _kiln_v1_RegistryEvent, RegistryEvent__Output as _kiln_v1_RegistryEvent__Output } from './kiln/v1/RegistryEvent';
import type { WatchModelsRequest as _kiln_v1_WatchModelsRequest, WatchModelsRequest__Output as _kiln_v1_WatchModelsRequest__Output } from './kiln/v1/WatchModelsRequest';
import type { Webhook as _kiln_v1_Webhook, Webhook__Output as _kiln_v1_Webhook__Output } from './kiln/v1/Webhook';
import type { WebhookDelivery as _kiln_v1_WebhookDelivery, WebhookDelivery__Output as _kiln_v1_WebhookDelivery__Output } from './kiln/v1/WebhookDelivery';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  google: {
    protobuf: {
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
  kiln: {
    v1: {
      CreateWebhookRequest: MessageTypeDefinition<_kiln_v1_CreateWebhookRequest, _kiln_v1_CreateWebhookRequest__Output>
      DeleteWebhookRequest: MessageTypeDefinition<_kiln_v1_DeleteWebhookRequest, _kiln_v1_DeleteWebhookRequest__Output>
      EnableWebhookRequest: MessageTypeDefinition<_kiln_v1_EnableWebhookRequest, _kiln_v1_EnableWebhookRequest__Output>
      EventKind: EnumTypeDefinition
      ListWebhookDeliveriesRequest: MessageTypeDefinition<_kiln_v1_ListWebhookDeliveriesRequest, _kiln_v1_ListWebhookDeliveriesRequest__Output>
      ListWebhookDeliveriesResponse: MessageTypeDefinition<_kiln_v1_ListWebhookDeliveriesResponse, _kiln_v1_ListWebhookDeliveriesResponse__Output>
      ListWebhooksRequest: MessageTypeDefinition<_kiln_v1_ListWebhooksRequest, _kiln_v1_ListWebhooksRequest__Output>
      ListWebhooksResponse: MessageTypeDefinition<_kiln_v1_ListWebhooksResponse, _kiln_v1_ListWebhooksResponse__Output>
      RegistryEvent: MessageTypeDefinition<_kiln_v1_RegistryEvent, _kiln_v1_RegistryEvent__Output>
      WatchModelsRequest: MessageTypeDefinition<_kiln_v1_WatchModelsRequest, _kiln_v1_WatchModelsRequest__Output>
      Webhook: MessageTypeDefinition<_kiln_v1_Webhook, _kiln_v1_Webhook__Output>
      WebhookDelivery: MessageTypeDefinition<_kiln_v1_WebhookDelivery, _kiln_v1_WebhookDelivery__Output>
    }
  }
}

