import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
import type { AliasMove as _kiln_v1_AliasMove, AliasMove__Output as _kiln_v1_AliasMove__Output } from './kiln/v1/AliasMove';
import type { AuditEvent as _kiln_v1_AuditEvent, AuditEvent__Output as _kiln_v1_AuditEvent__Output } from './kiln/v1/AuditEvent';
import type { BuildLogLine as _kiln_v1_BuildLogLine, BuildLogLine__Output as _kiln_v1_BuildLogLine__Output } from './kiln/v1/BuildLogLine';
import type { BuildModelVersionRequest as _kiln_v1_BuildModelVersionRequest, BuildModelVersionRequest__Output as _kiln_v1_BuildModelVersionRequest__Output } from './kiln/v1/BuildModelVersionRequest';
import type { BuildModelVersionResponse as _kiln_v1_BuildModelVersionResponse, BuildModelVersionResponse__Output as _kiln_v1_BuildModelVersionResponse__Output } from './kiln/v1/BuildModelVersionResponse';
import type { BuildResult as _kiln_v1_BuildResult, BuildResult__Output as _kiln_v1_BuildResult__Output } from './kiln/v1/BuildResult';
import type { BuilderClient as _kiln_v1_BuilderClient, BuilderDefinition as _kiln_v1_BuilderDefinition } from './kiln/v1/Builder';
import type { Contract as _kiln_v1_Contract, Contract__Output as _kiln_v1_Contract__Output } from './kiln/v1/Contract';
import type { ContractChange as _kiln_v1_ContractChange, ContractChange__Output as _kiln_v1_ContractChange__Output } from './kiln/v1/ContractChange';
import type { CreateTokenRequest as _kiln_v1_CreateTokenRequest, CreateTokenRequest__Output as _kiln_v1_CreateTokenRequest__Output } from './kiln/v1/CreateTokenRequest';
import type { CreateTokenResponse as _kiln_v1_CreateTokenResponse, CreateTokenResponse__Output as _kiln_v1_CreateTokenResponse__Output } from './kiln/v1/CreateTokenResponse';
import type { CreateWebhookRequest as _kiln_v1_CreateWebhookRequest, CreateWebhookRequest__Output as _kiln_v1_CreateWebhookRequest__Output } from './kiln/v1/CreateWebhookRequest';
import type { DeleteModelAliasRequest as _kiln_v1_DeleteModelAliasRequest, DeleteModelAliasRequest__Output as _kiln_v1_DeleteModelAliasRequest__Output } from './kiln/v1/DeleteModelAliasRequest';
import type { DeleteModelVersionRequest as _kiln_v1_DeleteModelVersionRequest, DeleteModelVersionRequest__Output as _kiln_v1_DeleteModelVersionRequest__Output } from './kiln/v1/DeleteModelVersionRequest';
import type { DeleteWebhookRequest as _kiln_v1_DeleteWebhookRequest, DeleteWebhookRequest__Output as _kiln_v1_DeleteWebhookRequest__Output } from './kiln/v1/DeleteWebhookRequest';
import type { DiffContractsRequest as _kiln_v1_DiffContractsRequest, DiffContractsRequest__Output as _kiln_v1_DiffContractsRequest__Output } from './kiln/v1/DiffContractsRequest';
import type { DiffContractsResponse as _kiln_v1_DiffContractsResponse, DiffContractsResponse__Output as _kiln_v1_DiffContractsResponse__Output } from './kiln/v1/DiffContractsResponse';
import type { Dim as _kiln_v1_Dim, Dim__Output as _kiln_v1_Dim__Output } from './kiln/v1/Dim';
import type { DownloadModelVersionRequest as _kiln_v1_DownloadModelVersionRequest, DownloadModelVersionRequest__Output as _kiln_v1_DownloadModelVersionRequest__Output } from './kiln/v1/DownloadModelVersionRequest';
import type { DownloadModelVersionResponse as _kiln_v1_DownloadModelVersionResponse, DownloadModelVersionResponse__Output as _kiln_v1_DownloadModelVersionResponse__Output } from './kiln/v1/DownloadModelVersionResponse';
import type { EnableWebhookRequest as _kiln_v1_EnableWebhookRequest, EnableWebhookRequest__Output as _kiln_v1_EnableWebhookRequest__Output } from './kiln/v1/EnableWebhookRequest';
import type { Field as _kiln_v1_Field, Field__Output as _kiln_v1_Field__Output } from './kiln/v1/Field';
import type { GetModelVersionRequest as _kiln_v1_GetModelVersionRequest, GetModelVersionRequest__Output as _kiln_v1_GetModelVersionRequest__Output } from './kiln/v1/GetModelVersionRequest';
import type { ListAliasHistoryRequest as _kiln_v1_ListAliasHistoryRequest, ListAliasHistoryRequest__Output as _kiln_v1_ListAliasHistoryRequest__Output } from './kiln/v1/ListAliasHistoryRequest';
import type { ListAliasHistoryResponse as _kiln_v1_ListAliasHistoryResponse, ListAliasHistoryResponse__Output as _kiln_v1_ListAliasHistoryResponse__Output } from './kiln/v1/ListAliasHistoryResponse';
import type { ListAuditEventsRequest as _kiln_v1_ListAuditEventsRequest, ListAuditEventsRequest__Output as _kiln_v1_ListAuditEventsRequest__Output } from './kiln/v1/ListAuditEventsRequest';
import type { ListAuditEventsResponse as _kiln_v1_ListAuditEventsResponse, ListAuditEventsResponse__Output as _kiln_v1_ListAuditEventsResponse__Output } from './kiln/v1/ListAuditEventsResponse';
import type { ListModelAliasesRequest as _kiln_v1_ListModelAliasesRequest, ListModelAliasesRequest__Output as _kiln_v1_ListModelAliasesRequest__Output } from './kiln/v1/ListModelAliasesRequest';
import type { ListModelAliasesResponse as _kiln_v1_ListModelAliasesResponse, ListModelAliasesResponse__Output as _kiln_v1_ListModelAliasesResponse__Output } from './kiln/v1/ListModelAliasesResponse';
import type { ListModelVersionsRequest as _kiln_v1_ListModelVersionsRequest, ListModelVersionsRequest__Output as _kiln_v1_ListModelVersionsRequest__Output } from './kiln/v1/ListModelVersionsRequest';
import type { ListModelVersionsResponse as _kiln_v1_ListModelVersionsResponse, ListModelVersionsResponse__Output as _kiln_v1_ListModelVersionsResponse__Output } from './kiln/v1/ListModelVersionsResponse';
import type { ListModelsRequest as _kiln_v1_ListModelsRequest, ListModelsRequest__Output as _kiln_v1_ListModelsRequest__Output } from './kiln/v1/ListModelsRequest';
import type { ListModelsResponse as _kiln_v1_ListModelsResponse, ListModelsResponse__Output as _kiln_v1_ListModelsResponse__Output } from './kiln/v1/ListModelsResponse';
import type { ListTokensRequest as _kiln_v1_ListTokensRequest, ListTokensRequest__Output as _kiln_v1_ListTokensRequest__Output } from './kiln/v1/ListTokensRequest';
import type { ListTokensResponse as _kiln_v1_ListTokensResponse, ListTokensResponse__Output as _kiln_v1_ListTokensResponse__Output } from './kiln/v1/ListTokensResponse';
import type { ListWebhookDeliveriesRequest as _kiln_v1_ListWebhookDeliveriesRequest, ListWebhookDeliveriesRequest__Output as _kiln_v1_ListWebhookDeliveriesRequest__Output } from './kiln/v1/ListWebhookDeliveriesRequest';
import type { ListWebhookDeliveriesResponse as _kiln_v1_ListWebhookDeliveriesResponse, ListWebhookDeliveriesResponse__Output as _kiln_v1_ListWebhookDeliveriesResponse__Output } from './kiln/v1/ListWebhookDeliveriesResponse';
import type { ListWebhooksRequest as _kiln_v1_ListWebhooksRequest, ListWebhooksRequest__Output as _kiln_v1_ListWebhooksRequest__Output } from './kiln/v1/ListWebhooksRequest';
import type { ListWebhooksResponse as _kiln_v1_ListWebhooksResponse, ListWebhooksResponse__Output as _kiln_v1_ListWebhooksResponse__Output } from './kiln/v1/ListWebhooksResponse';
import type { MapType as _kiln_v1_MapType, MapType__Output as _kiln_v1_MapType__Output } from './kiln/v1/MapType';
import type { Model as _kiln_v1_Model, Model__Output as _kiln_v1_Model__Output } from './kiln/v1/Model';
import type { ModelAlias as _kiln_v1_ModelAlias, ModelAlias__Output as _kiln_v1_ModelAlias__Output } from './kiln/v1/ModelAlias';
import type { ModelFile as _kiln_v1_ModelFile, ModelFile__Output as _kiln_v1_ModelFile__Output } from './kiln/v1/ModelFile';
import type { ModelVersion as _kiln_v1_ModelVersion, ModelVersion__Output as _kiln_v1_ModelVersion__Output } from './kiln/v1/ModelVersion';
import type { OptionalType as _kiln_v1_OptionalType, OptionalType__Output as _kiln_v1_OptionalType__Output } from './kiln/v1/OptionalType';
import type { RaggedTensorType as _kiln_v1_RaggedTensorType, RaggedTensorType__Output as _kiln_v1_RaggedTensorType__Output } from './kiln/v1/RaggedTensorType';
import type { RegistryClient as _kiln_v1_RegistryClient, RegistryDefinition as _kiln_v1_RegistryDefinition } from './kiln/v1/Registry';
import type { RegistryEvent as _kiln_v1_RegistryEvent, RegistryEvent__Output as _kiln_v1_RegistryEvent__Output } from './kiln/v1/RegistryEvent';
import type { RevokeTokenRequest as _kiln_v1_RevokeTokenRequest, RevokeTokenRequest__Output as _kiln_v1_RevokeTokenRequest__Output } from './kiln/v1/RevokeTokenRequest';
import type { RoleBinding as _kiln_v1_RoleBinding, RoleBinding__Output as _kiln_v1_RoleBinding__Output } from './kiln/v1/RoleBinding';
import type { SequenceType as _kiln_v1_SequenceType, SequenceType__Output as _kiln_v1_SequenceType__Output } from './kiln/v1/SequenceType';
import type { SetModelAliasRequest as _kiln_v1_SetModelAliasRequest, SetModelAliasRequest__Output as _kiln_v1_SetModelAliasRequest__Output } from './kiln/v1/SetModelAliasRequest';
import type { Shape as _kiln_v1_Shape, Shape__Output as _kiln_v1_Shape__Output } from './kiln/v1/Shape';
import type { Signature as _kiln_v1_Signature, Signature__Output as _kiln_v1_Signature__Output } from './kiln/v1/Signature';
import type { SparseTensorType as _kiln_v1_SparseTensorType, SparseTensorType__Output as _kiln_v1_SparseTensorType__Output } from './kiln/v1/SparseTensorType';
import type { TagModelVersionRequest as _kiln_v1_TagModelVersionRequest, TagModelVersionRequest__Output as _kiln_v1_TagModelVersionRequest__Output } from './kiln/v1/TagModelVersionRequest';
import type { TagModelVersionResponse as _kiln_v1_TagModelVersionResponse, TagModelVersionResponse__Output as _kiln_v1_TagModelVersionResponse__Output } from './kiln/v1/TagModelVersionResponse';
import type { TensorType as _kiln_v1_TensorType, TensorType__Output as _kiln_v1_TensorType__Output } from './kiln/v1/TensorType';
import type { Token as _kiln_v1_Token, Token__Output as _kiln_v1_Token__Output } from './kiln/v1/Token';
import type { UntagModelVersionRequest as _kiln_v1_UntagModelVersionRequest, UntagModelVersionRequest__Output as _kiln_v1_UntagModelVersionRequest__Output } from './kiln/v1/UntagModelVersionRequest';
import type { UntagModelVersionResponse as _kiln_v1_UntagModelVersionResponse, UntagModelVersionResponse__Output as _kiln_v1_UntagModelVersionResponse__Output } from './kiln/v1/UntagModelVersionResponse';
import type { UpdateModelVersionRequest as _kiln_v1_UpdateModelVersionRequest, UpdateModelVersionRequest__Output as _kiln_v1_UpdateModelVersionRequest__Output } from './kiln/v1/UpdateModelVersionRequest';
import type { UploadHeader as _kiln_v1_UploadHeader, UploadHeader__Output as _kiln_v1_UploadHeader__Output } from './kiln/v1/UploadHeader';
import type { UploadModelRequest as _kiln_v1_UploadModelRequest, UploadModelRequest__Output as _kiln_v1_UploadModelRequest__Output } from './kiln/v1/UploadModelRequest';
import type { ValueType as _kiln_v1_ValueType, ValueType__Output as _kiln_v1_ValueType__Output } from './kiln/v1/ValueType';
import type { VersionSelector as _kiln_v1_VersionSelector, VersionSelector__Output as _kiln_v1_VersionSelector__Output } from './kiln/v1/VersionSelector';
import type { WatchModelVersionRequest as _kiln_v1_WatchModelVersionRequest, WatchModelVersionRequest__Output as _kiln_v1_WatchModelVersionRequest__Output } from './kiln/v1/WatchModelVersionRequest';
import type { WatchModelVersionResponse as _kiln_v1_WatchModelVersionResponse, WatchModelVersionResponse__Output as _kiln_v1_WatchModelVersionResponse__Output } from './kiln/v1/WatchModelVersionResponse';
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
      AliasMove: MessageTypeDefinition<_kiln_v1_AliasMove, _kiln_v1_AliasMove__Output>
      ArchiveFormat: EnumTypeDefinition
      AuditEvent: MessageTypeDefinition<_kiln_v1_AuditEvent, _kiln_v1_AuditEvent__Output>
      BuildLogLine: MessageTypeDefinition<_kiln_v1_BuildLogLine, _kiln_v1_BuildLogLine__Output>
      BuildModelVersionRequest: MessageTypeDefinition<_kiln_v1_BuildModelVersionRequest, _kiln_v1_BuildModelVersionRequest__Output>
      BuildModelVersionResponse: MessageTypeDefinition<_kiln_v1_BuildModelVersionResponse, _kiln_v1_BuildModelVersionResponse__Output>
      BuildResult: MessageTypeDefinition<_kiln_v1_BuildResult, _kiln_v1_BuildResult__Output>
      Builder: SubtypeConstructor<typeof grpc.Client, _kiln_v1_BuilderClient> & { service: _kiln_v1_BuilderDefinition }
      ChangeSeverity: EnumTypeDefinition
      Contract: MessageTypeDefinition<_kiln_v1_Contract, _kiln_v1_Contract__Output>
      ContractChange: MessageTypeDefinition<_kiln_v1_ContractChange, _kiln_v1_ContractChange__Output>
      CreateTokenRequest: MessageTypeDefinition<_kiln_v1_CreateTokenRequest, _kiln_v1_CreateTokenRequest__Output>
      CreateTokenResponse: MessageTypeDefinition<_kiln_v1_CreateTokenResponse, _kiln_v1_CreateTokenResponse__Output>
      CreateWebhookRequest: MessageTypeDefinition<_kiln_v1_CreateWebhookRequest, _kiln_v1_CreateWebhookRequest__Output>
      DataProfile: EnumTypeDefinition
      DataType: EnumTypeDefinition
      DeleteModelAliasRequest: MessageTypeDefinition<_kiln_v1_DeleteModelAliasRequest, _kiln_v1_DeleteModelAliasRequest__Output>
      DeleteModelVersionRequest: MessageTypeDefinition<_kiln_v1_DeleteModelVersionRequest, _kiln_v1_DeleteModelVersionRequest__Output>
      DeleteWebhookRequest: MessageTypeDefinition<_kiln_v1_DeleteWebhookRequest, _kiln_v1_DeleteWebhookRequest__Output>
      DiffContractsRequest: MessageTypeDefinition<_kiln_v1_DiffContractsRequest, _kiln_v1_DiffContractsRequest__Output>
      DiffContractsResponse: MessageTypeDefinition<_kiln_v1_DiffContractsResponse, _kiln_v1_DiffContractsResponse__Output>
      Dim: MessageTypeDefinition<_kiln_v1_Dim, _kiln_v1_Dim__Output>
      DownloadModelVersionRequest: MessageTypeDefinition<_kiln_v1_DownloadModelVersionRequest, _kiln_v1_DownloadModelVersionRequest__Output>
      DownloadModelVersionResponse: MessageTypeDefinition<_kiln_v1_DownloadModelVersionResponse, _kiln_v1_DownloadModelVersionResponse__Output>
      EnableWebhookRequest: MessageTypeDefinition<_kiln_v1_EnableWebhookRequest, _kiln_v1_EnableWebhookRequest__Output>
      EventKind: EnumTypeDefinition
      Field: MessageTypeDefinition<_kiln_v1_Field, _kiln_v1_Field__Output>
      GetModelVersionRequest: MessageTypeDefinition<_kiln_v1_GetModelVersionRequest, _kiln_v1_GetModelVersionRequest__Output>
      ListAliasHistoryRequest: MessageTypeDefinition<_kiln_v1_ListAliasHistoryRequest, _kiln_v1_ListAliasHistoryRequest__Output>
      ListAliasHistoryResponse: MessageTypeDefinition<_kiln_v1_ListAliasHistoryResponse, _kiln_v1_ListAliasHistoryResponse__Output>
      ListAuditEventsRequest: MessageTypeDefinition<_kiln_v1_ListAuditEventsRequest, _kiln_v1_ListAuditEventsRequest__Output>
      ListAuditEventsResponse: MessageTypeDefinition<_kiln_v1_ListAuditEventsResponse, _kiln_v1_ListAuditEventsResponse__Output>
      ListModelAliasesRequest: MessageTypeDefinition<_kiln_v1_ListModelAliasesRequest, _kiln_v1_ListModelAliasesRequest__Output>
      ListModelAliasesResponse: MessageTypeDefinition<_kiln_v1_ListModelAliasesResponse, _kiln_v1_ListModelAliasesResponse__Output>
      ListModelVersionsRequest: MessageTypeDefinition<_kiln_v1_ListModelVersionsRequest, _kiln_v1_ListModelVersionsRequest__Output>
      ListModelVersionsResponse: MessageTypeDefinition<_kiln_v1_ListModelVersionsResponse, _kiln_v1_ListModelVersionsResponse__Output>
      ListModelsRequest: MessageTypeDefinition<_kiln_v1_ListModelsRequest, _kiln_v1_ListModelsRequest__Output>
      ListModelsResponse: MessageTypeDefinition<_kiln_v1_ListModelsResponse, _kiln_v1_ListModelsResponse__Output>
      ListTokensRequest: MessageTypeDefinition<_kiln_v1_ListTokensRequest, _kiln_v1_ListTokensRequest__Output>
      ListTokensResponse: MessageTypeDefinition<_kiln_v1_ListTokensResponse, _kiln_v1_ListTokensResponse__Output>
      ListWebhookDeliveriesRequest: MessageTypeDefinition<_kiln_v1_ListWebhookDeliveriesRequest, _kiln_v1_ListWebhookDeliveriesRequest__Output>
      ListWebhookDeliveriesResponse: MessageTypeDefinition<_kiln_v1_ListWebhookDeliveriesResponse, _kiln_v1_ListWebhookDeliveriesResponse__Output>
      ListWebhooksRequest: MessageTypeDefinition<_kiln_v1_ListWebhooksRequest, _kiln_v1_ListWebhooksRequest__Output>
      ListWebhooksResponse: MessageTypeDefinition<_kiln_v1_ListWebhooksResponse, _kiln_v1_ListWebhooksResponse__Output>
      MapType: MessageTypeDefinition<_kiln_v1_MapType, _kiln_v1_MapType__Output>
      Model: MessageTypeDefinition<_kiln_v1_Model, _kiln_v1_Model__Output>
      ModelAlias: MessageTypeDefinition<_kiln_v1_ModelAlias, _kiln_v1_ModelAlias__Output>
      ModelFile: MessageTypeDefinition<_kiln_v1_ModelFile, _kiln_v1_ModelFile__Output>
      ModelVersion: MessageTypeDefinition<_kiln_v1_ModelVersion, _kiln_v1_ModelVersion__Output>
      ModelVersionStatus: EnumTypeDefinition
      OptionalType: MessageTypeDefinition<_kiln_v1_OptionalType, _kiln_v1_OptionalType__Output>
      RaggedTensorType: MessageTypeDefinition<_kiln_v1_RaggedTensorType, _kiln_v1_RaggedTensorType__Output>
      Registry: SubtypeConstructor<typeof grpc.Client, _kiln_v1_RegistryClient> & { service: _kiln_v1_RegistryDefinition }
      RegistryEvent: MessageTypeDefinition<_kiln_v1_RegistryEvent, _kiln_v1_RegistryEvent__Output>
      RevokeTokenRequest: MessageTypeDefinition<_kiln_v1_RevokeTokenRequest, _kiln_v1_RevokeTokenRequest__Output>
      Role: EnumTypeDefinition
      RoleBinding: MessageTypeDefinition<_kiln_v1_RoleBinding, _kiln_v1_RoleBinding__Output>
      SequenceType: MessageTypeDefinition<_kiln_v1_SequenceType, _kiln_v1_SequenceType__Output>
      SetModelAliasRequest: MessageTypeDefinition<_kiln_v1_SetModelAliasRequest, _kiln_v1_SetModelAliasRequest__Output>
      Shape: MessageTypeDefinition<_kiln_v1_Shape, _kiln_v1_Shape__Output>
      Signature: MessageTypeDefinition<_kiln_v1_Signature, _kiln_v1_Signature__Output>
      SparseTensorType: MessageTypeDefinition<_kiln_v1_SparseTensorType, _kiln_v1_SparseTensorType__Output>
      TagModelVersionRequest: MessageTypeDefinition<_kiln_v1_TagModelVersionRequest, _kiln_v1_TagModelVersionRequest__Output>
      TagModelVersionResponse: MessageTypeDefinition<_kiln_v1_TagModelVersionResponse, _kiln_v1_TagModelVersionResponse__Output>
      TensorType: MessageTypeDefinition<_kiln_v1_TensorType, _kiln_v1_TensorType__Output>
      Token: MessageTypeDefinition<_kiln_v1_Token, _kiln_v1_Token__Output>
      UntagModelVersionRequest: MessageTypeDefinition<_kiln_v1_UntagModelVersionRequest, _kiln_v1_UntagModelVersionRequest__Output>
      UntagModelVersionResponse: MessageTypeDefinition<_kiln_v1_UntagModelVersionResponse, _kiln_v1_UntagModelVersionResponse__Output>
      UpdateModelVersionRequest: MessageTypeDefinition<_kiln_v1_UpdateModelVersionRequest, _kiln_v1_UpdateModelVersionRequest__Output>
      UploadHeader: MessageTypeDefinition<_kiln_v1_UploadHeader, _kiln_v1_UploadHeader__Output>
      UploadModelRequest: MessageTypeDefinition<_kiln_v1_UploadModelRequest, _kiln_v1_UploadModelRequest__Output>
      ValueType: MessageTypeDefinition<_kiln_v1_ValueType, _kiln_v1_ValueType__Output>
      VersionSelector: MessageTypeDefinition<_kiln_v1_VersionSelector, _kiln_v1_VersionSelector__Output>
      WatchModelVersionRequest: MessageTypeDefinition<_kiln_v1_WatchModelVersionRequest, _kiln_v1_WatchModelVersionRequest__Output>
      WatchModelVersionResponse: MessageTypeDefinition<_kiln_v1_WatchModelVersionResponse, _kiln_v1_WatchModelVersionResponse__Output>
      WatchModelsRequest: MessageTypeDefinition<_kiln_v1_WatchModelsRequest, _kiln_v1_WatchModelsRequest__Output>
      Webhook: MessageTypeDefinition<_kiln_v1_Webhook, _kiln_v1_Webhook__Output>
      WebhookDelivery: MessageTypeDefinition<_kiln_v1_WebhookDelivery, _kiln_v1_WebhookDelivery__Output>
    }
  }
}

