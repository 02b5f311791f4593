// Original file: proto/kiln/v1/registry.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateTokenRequest as _kiln_v1_CreateTokenRequest, CreateTokenRequest__Output as _kiln_v1_CreateTokenRequest__Output } from '../../kiln/v1/CreateTokenRequest';
import type { CreateTokenResponse as _kiln_v1_CreateTokenResponse, CreateTokenResponse__Output as _kiln_v1_CreateTokenResponse__Output } from '../../kiln/v1/CreateTokenResponse';
import type { CreateWebhookRequest as _kiln_v1_CreateWebhookRequest, CreateWebhookRequest__Output as _kiln_v1_CreateWebhookRequest__Output } from '../../kiln/v1/CreateWebhookRequest';
import type { DeleteModelAliasRequest as _kiln_v1_DeleteModelAliasRequest, DeleteModelAliasRequest__Output as _kiln_v1_DeleteModelAliasRequest__Output } from '../../kiln/v1/DeleteModelAliasRequest';
import type { DeleteModelVersionRequest as _kiln_v1_DeleteModelVersionRequest, DeleteModelVersionRequest__Output as _kiln_v1_DeleteModelVersionRequest__Output } from '../../kiln/v1/DeleteModelVersionRequest';
import type { DeleteWebhookRequest as _kiln_v1_DeleteWebhookRequest, DeleteWebhookRequest__Output as _kiln_v1_DeleteWebhookRequest__Output } from '../../kiln/v1/DeleteWebhookRequest';
import type { DiffContractsRequest as _kiln_v1_DiffContractsRequest, DiffContractsRequest__Output as _kiln_v1_DiffContractsRequest__Output } from '../../kiln/v1/DiffContractsRequest';
import type { DiffContractsResponse as _kiln_v1_DiffContractsResponse, DiffContractsResponse__Output as _kiln_v1_DiffContractsResponse__Output } from '../../kiln/v1/DiffContractsResponse';
import type { DownloadModelVersionRequest as _kiln_v1_DownloadModelVersionRequest, DownloadModelVersionRequest__Output as _kiln_v1_DownloadModelVersionRequest__Output } from '../../kiln/v1/DownloadModelVersionRequest';
import type { DownloadModelVersionResponse as _kiln_v1_DownloadModelVersionResponse, DownloadModelVersionResponse__Output as _kiln_v1_DownloadModelVersionResponse__Output } from '../../kiln/v1/DownloadModelVersionResponse';
import type { EnableWebhookRequest as _kiln_v1_EnableWebhookRequest, EnableWebhookRequest__Output as _kiln_v1_EnableWebhookRequest__Output } from '../../kiln/v1/EnableWebhookRequest';
import type { GetModelVersionRequest as _kiln_v1_GetModelVersionRequest, GetModelVersionRequest__Output as _kiln_v1_GetModelVersionRequest__Output } from '../../kiln/v1/GetModelVersionRequest';
import type { ListAliasHistoryRequest as _kiln_v1_ListAliasHistoryRequest, ListAliasHistoryRequest__Output as _kiln_v1_ListAliasHistoryRequest__Output } from '../../kiln/v1/ListAliasHistoryRequest';
import type { ListAliasHistoryResponse as _kiln_v1_ListAliasHistoryResponse, ListAliasHistoryResponse__Output as _kiln_v1_ListAliasHistoryResponse__Output } from '../../kiln/v1/ListAliasHistoryResponse';
import type { ListAuditEventsRequest as _kiln_v1_ListAuditEventsRequest, ListAuditEventsRequest__Output as _kiln_v1_ListAuditEventsRequest__Output } from '../../kiln/v1/ListAuditEventsRequest';
import type { ListAuditEventsResponse as _kiln_v1_ListAuditEventsResponse, ListAuditEventsResponse__Output as _kiln_v1_ListAuditEventsResponse__Output } from '../../kiln/v1/ListAuditEventsResponse';
import type { ListModelAliasesRequest as _kiln_v1_ListModelAliasesRequest, ListModelAliasesRequest__Output as _kiln_v1_ListModelAliasesRequest__Output } from '../../kiln/v1/ListModelAliasesRequest';
import type { ListModelAliasesResponse as _kiln_v1_ListModelAliasesResponse, ListModelAliasesResponse__Output as _kiln_v1_ListModelAliasesResponse__Output } from '../../kiln/v1/ListModelAliasesResponse';
import type { ListModelVersionsRequest as _kiln_v1_ListModelVersionsRequest, ListModelVersionsRequest__Output as _kiln_v1_ListModelVersionsRequest__Output } from '../../kiln/v1/ListModelVersionsRequest';
import type { ListModelVersionsResponse as _kiln_v1_ListModelVersionsResponse, ListModelVersionsResponse__Output as _kiln_v1_ListModelVersionsResponse__Output } from '../../kiln/v1/ListModelVersionsResponse';
import type { ListModelsRequest as _kiln_v1_ListModelsRequest, ListModelsRequest__Output as _kiln_v1_ListModelsRequest__Output } from '../../kiln/v1/ListModelsRequest';
import type { ListModelsResponse as _kiln_v1_ListModelsResponse, ListModelsResponse__Output as _kiln_v1_ListModelsResponse__Output } from '../../kiln/v1/ListModelsResponse';
import type { ListTokensRequest as _kiln_v1_ListTokensRequest, ListTokensRequest__Output as _kiln_v1_ListTokensRequest__Output } from '../../kiln/v1/ListTokensRequest';
import type { ListTokensResponse as _kiln_v1_ListTokensResponse, ListTokensResponse__Output as _kiln_v1_ListTokensResponse__Output } from '../../kiln/v1/ListTokensResponse';
import type { ListWebhookDeliveriesRequest as _kiln_v1_ListWebhookDeliveriesRequest, ListWebhookDeliveriesRequest__Output as _kiln_v1_ListWebhookDeliveriesRequest__Output } from '../../kiln/v1/ListWebhookDeliveriesRequest';
import type { ListWebhookDeliveriesResponse as _kiln_v1_ListWebhookDeliveriesResponse, ListWebhookDeliveriesResponse__Output as _kiln_v1_ListWebhookDeliveriesResponse__Output } from '../../kiln/v1/ListWebhookDeliveriesResponse';
import type { ListWebhooksRequest as _kiln_v1_ListWebhooksRequest, ListWebhooksRequest__Output as _kiln_v1_ListWebhooksRequest__Output } from '../../kiln/v1/ListWebhooksRequest';
import type { ListWebhooksResponse as _kiln_v1_ListWebhooksResponse, ListWebhooksResponse__Output as _kiln_v1_ListWebhooksResponse__Output } from '../../kiln/v1/ListWebhooksResponse';
import type { ModelAlias as _kiln_v1_ModelAlias, ModelAlias__Output as _kiln_v1_ModelAlias__Output } from '../../kiln/v1/ModelAlias';
import type { ModelVersion as _kiln_v1_ModelVersion, ModelVersion__Output as _kiln_v1_ModelVersion__Output } from '../../kiln/v1/ModelVersion';
import type { RegistryEvent as _kiln_v1_RegistryEvent, RegistryEvent__Output as _kiln_v1_RegistryEvent__Output } from '../../kiln/v1/RegistryEvent';
import type { RevokeTokenRequest as _kiln_v1_RevokeTokenRequest, RevokeTokenRequest__Output as _kiln_v1_RevokeTokenRequest__Output } from '../../kiln/v1/RevokeTokenRequest';
import type { SetModelAliasRequest as _kiln_v1_SetModelAliasRequest, SetModelAliasRequest__Output as _kiln_v1_SetModelAliasRequest__Output } from '../../kiln/v1/SetModelAliasRequest';
import type { Token as _kiln_v1_Token, Token__Output as _kiln_v1_Token__Output } from '../../kiln/v1/Token';
import type { UpdateModelVersionRequest as _kiln_v1_UpdateModelVersionRequest, UpdateModelVersionRequest__Output as _kiln_v1_UpdateModelVersionRequest__Output } from '../../kiln/v1/UpdateModelVersionRequest';
import type { UploadModelRequest as _kiln_v1_UploadModelRequest, UploadModelRequest__Output as _kiln_v1_UploadModelRequest__Output } from '../../kiln/v1/UploadModelRequest';
import type { WatchModelVersionRequest as _kiln_v1_WatchModelVersionRequest, WatchModelVersionRequest__Output as _kiln_v1_WatchModelVersionRequest__Output } from '../../kiln/v1/WatchModelVersionRequest';
import type { WatchModelVersionResponse as _kiln_v1_WatchModelVersionResponse, WatchModelVersionResponse__Output as _kiln_v1_WatchModelVersionResponse__Output } from '../../kiln/v1/WatchModelVersionResponse';
import type { WatchModelsRequest as _kiln_v1_WatchModelsRequest, WatchModelsRequest__Output as _kiln_v1_WatchModelsRequest__Output } from '../../kiln/v1/WatchModelsRequest';
import type { Webhook as _kiln_v1_Webhook, Webhook__Output as _kiln_v1_Webhook__Output } from '../../kiln/v1/Webhook';

export interface RegistryClient extends grpc.Client {
  CreateToken(argument: _kiln_v1_CreateTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateToken(argument: _kiln_v1_CreateTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateToken(argument: _kiln_v1_CreateTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateToken(argument: _kiln_v1_CreateTokenRequest, callback: grpc.requestCallback<_kiln_v1_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  createToken(argument: _kiln_v1_CreateTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  createToken(argument: _kiln_v1_CreateTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  createToken(argument: _kiln_v1_CreateTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  createToken(argument: _kiln_v1_CreateTokenRequest, callback: grpc.requestCallback<_kiln_v1_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  
  CreateWebhook(argument: _kiln_v1_CreateWebhookRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  CreateWebhook(argument: _kiln_v1_CreateWebhookRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  CreateWebhook(argument: _kiln_v1_CreateWebhookRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  CreateWebhook(argument: _kiln_v1_CreateWebhookRequest, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  createWebhook(argument: _kiln_v1_CreateWebhookRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  createWebhook(argument: _kiln_v1_CreateWebhookRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  createWebhook(argument: _kiln_v1_CreateWebhookRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  createWebhook(argument: _kiln_v1_CreateWebhookRequest, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  
  DeleteModelAlias(argument: _kiln_v1_DeleteModelAliasRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  DeleteModelAlias(argument: _kiln_v1_DeleteModelAliasRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  DeleteModelAlias(argument: _kiln_v1_DeleteModelAliasRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  DeleteModelAlias(argument: _kiln_v1_DeleteModelAliasRequest, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  deleteModelAlias(argument: _kiln_v1_DeleteModelAliasRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  deleteModelAlias(argument: _kiln_v1_DeleteModelAliasRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  deleteModelAlias(argument: _kiln_v1_DeleteModelAliasRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  deleteModelAlias(argument: _kiln_v1_DeleteModelAliasRequest, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  
  DeleteModelVersion(argument: _kiln_v1_DeleteModelVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  DeleteModelVersion(argument: _kiln_v1_DeleteModelVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  DeleteModelVersion(argument: _kiln_v1_DeleteModelVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  DeleteModelVersion(argument: _kiln_v1_DeleteModelVersionRequest, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  deleteModelVersion(argument: _kiln_v1_DeleteModelVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  deleteModelVersion(argument: _kiln_v1_DeleteModelVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  deleteModelVersion(argument: _kiln_v1_DeleteModelVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  deleteModelVersion(argument: _kiln_v1_DeleteModelVersionRequest, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  
  DeleteWebhook(argument: _kiln_v1_DeleteWebhookRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  DeleteWebhook(argument: _kiln_v1_DeleteWebhookRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  DeleteWebhook(argument: _kiln_v1_DeleteWebhookRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  DeleteWebhook(argument: _kiln_v1_DeleteWebhookRequest, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  deleteWebhook(argument: _kiln_v1_DeleteWebhookRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  deleteWebhook(argument: _kiln_v1_DeleteWebhookRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  deleteWebhook(argument: _kiln_v1_DeleteWebhookRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  deleteWebhook(argument: _kiln_v1_DeleteWebhookRequest, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  
  DiffContracts(argument: _kiln_v1_DiffContractsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_DiffContractsResponse__Output>): grpc.ClientUnaryCall;
  DiffContracts(argument: _kiln_v1_DiffContractsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_DiffContractsResponse__Output>): grpc.ClientUnaryCall;
  DiffContracts(argument: _kiln_v1_DiffContractsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_DiffContractsResponse__Output>): grpc.ClientUnaryCall;
  DiffContracts(argument: _kiln_v1_DiffContractsRequest, callback: grpc.requestCallback<_kiln_v1_DiffContractsResponse__Output>): grpc.ClientUnaryCall;
  diffContracts(argument: _kiln_v1_DiffContractsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_DiffContractsResponse__Output>): grpc.ClientUnaryCall;
  diffContracts(argument: _kiln_v1_DiffContractsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_DiffContractsResponse__Output>): grpc.ClientUnaryCall;
  diffContracts(argument: _kiln_v1_DiffContractsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_DiffContractsResponse__Output>): grpc.ClientUnaryCall;
  diffContracts(argument: _kiln_v1_DiffContractsRequest, callback: grpc.requestCallback<_kiln_v1_DiffContractsResponse__Output>): grpc.ClientUnaryCall;
  
  DownloadModelVersion(argument: _kiln_v1_DownloadModelVersionRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_DownloadModelVersionResponse__Output>;
  DownloadModelVersion(argument: _kiln_v1_DownloadModelVersionRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_DownloadModelVersionResponse__Output>;
  downloadModelVersion(argument: _kiln_v1_DownloadModelVersionRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_DownloadModelVersionResponse__Output>;
  downloadModelVersion(argument: _kiln_v1_DownloadModelVersionRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_DownloadModelVersionResponse__Output>;
  
  EnableWebhook(argument: _kiln_v1_EnableWebhookRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  EnableWebhook(argument: _kiln_v1_EnableWebhookRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  EnableWebhook(argument: _kiln_v1_EnableWebhookRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  EnableWebhook(argument: _kiln_v1_EnableWebhookRequest, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  enableWebhook(argument: _kiln_v1_EnableWebhookRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  enableWebhook(argument: _kiln_v1_EnableWebhookRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  enableWebhook(argument: _kiln_v1_EnableWebhookRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  enableWebhook(argument: _kiln_v1_EnableWebhookRequest, callback: grpc.requestCallback<_kiln_v1_Webhook__Output>): grpc.ClientUnaryCall;
  
  GetModelVersion(argument: _kiln_v1_GetModelVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  GetModelVersion(argument: _kiln_v1_GetModelVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  GetModelVersion(argument: _kiln_v1_GetModelVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  GetModelVersion(argument: _kiln_v1_GetModelVersionRequest, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  getModelVersion(argument: _kiln_v1_GetModelVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  getModelVersion(argument: _kiln_v1_GetModelVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  getModelVersion(argument: _kiln_v1_GetModelVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  getModelVersion(argument: _kiln_v1_GetModelVersionRequest, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  
  ListAliasHistory(argument: _kiln_v1_ListAliasHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListAliasHistoryResponse__Output>): grpc.ClientUnaryCall;
  ListAliasHistory(argument: _kiln_v1_ListAliasHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListAliasHistoryResponse__Output>): grpc.ClientUnaryCall;
  ListAliasHistory(argument: _kiln_v1_ListAliasHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListAliasHistoryResponse__Output>): grpc.ClientUnaryCall;
  ListAliasHistory(argument: _kiln_v1_ListAliasHistoryRequest, callback: grpc.requestCallback<_kiln_v1_ListAliasHistoryResponse__Output>): grpc.ClientUnaryCall;
  listAliasHistory(argument: _kiln_v1_ListAliasHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListAliasHistoryResponse__Output>): grpc.ClientUnaryCall;
  listAliasHistory(argument: _kiln_v1_ListAliasHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListAliasHistoryResponse__Output>): grpc.ClientUnaryCall;
  listAliasHistory(argument: _kiln_v1_ListAliasHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListAliasHistoryResponse__Output>): grpc.ClientUnaryCall;
  listAliasHistory(argument: _kiln_v1_ListAliasHistoryRequest, callback: grpc.requestCallback<_kiln_v1_ListAliasHistoryResponse__Output>): grpc.ClientUnaryCall;
  
  ListAuditEvents(argument: _kiln_v1_ListAuditEventsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  ListAuditEvents(argument: _kiln_v1_ListAuditEventsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  ListAuditEvents(argument: _kiln_v1_ListAuditEventsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  ListAuditEvents(argument: _kiln_v1_ListAuditEventsRequest, callback: grpc.requestCallback<_kiln_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  listAuditEvents(argument: _kiln_v1_ListAuditEventsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  listAuditEvents(argument: _kiln_v1_ListAuditEventsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  listAuditEvents(argument: _kiln_v1_ListAuditEventsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  listAuditEvents(argument: _kiln_v1_ListAuditEventsRequest, callback: grpc.requestCallback<_kiln_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  
  ListModelAliases(argument: _kiln_v1_ListModelAliasesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListModelAliasesResponse__Output>): grpc.ClientUnaryCall;
  ListModelAliases(argument: _kiln_v1_ListModelAliasesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListModelAliasesResponse__Output>): grpc.ClientUnaryCall;
  ListModelAliases(argument: _kiln_v1_ListModelAliasesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListModelAliasesResponse__Output>): grpc.ClientUnaryCall;
  ListModelAliases(argument: _kiln_v1_ListModelAliasesRequest, callback: grpc.requestCallback<_kiln_v1_ListModelAliasesResponse__Output>): grpc.ClientUnaryCall;
  listModelAliases(argument: _kiln_v1_ListModelAliasesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListModelAliasesResponse__Output>): grpc.ClientUnaryCall;
  listModelAliases(argument: _kiln_v1_ListModelAliasesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListModelAliasesResponse__Output>): grpc.ClientUnaryCall;
  listModelAliases(argument: _kiln_v1_ListModelAliasesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListModelAliasesResponse__Output>): grpc.ClientUnaryCall;
  listModelAliases(argument: _kiln_v1_ListModelAliasesRequest, callback: grpc.requestCallback<_kiln_v1_ListModelAliasesResponse__Output>): grpc.ClientUnaryCall;
  
  ListModelVersions(argument: _kiln_v1_ListModelVersionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListModelVersionsResponse__Output>): grpc.ClientUnaryCall;
  ListModelVersions(argument: _kiln_v1_ListModelVersionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListModelVersionsResponse__Output>): grpc.ClientUnaryCall;
  ListModelVersions(argument: _kiln_v1_ListModelVersionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListModelVersionsResponse__Output>): grpc.ClientUnaryCall;
  ListModelVersions(argument: _kiln_v1_ListModelVersionsRequest, callback: grpc.requestCallback<_kiln_v1_ListModelVersionsResponse__Output>): grpc.ClientUnaryCall;
  listModelVersions(argument: _kiln_v1_ListModelVersionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListModelVersionsResponse__Output>): grpc.ClientUnaryCall;
  listModelVersions(argument: _kiln_v1_ListModelVersionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListModelVersionsResponse__Output>): grpc.ClientUnaryCall;
  listModelVersions(argument: _kiln_v1_ListModelVersionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListModelVersionsResponse__Output>): grpc.ClientUnaryCall;
  listModelVersions(argument: _kiln_v1_ListModelVersionsRequest, callback: grpc.requestCallback<_kiln_v1_ListModelVersionsResponse__Output>): grpc.ClientUnaryCall;
  
  ListModels(argument: _kiln_v1_ListModelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _kiln_v1_ListModelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _kiln_v1_ListModelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _kiln_v1_ListModelsRequest, callback: grpc.requestCallback<_kiln_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _kiln_v1_ListModelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _kiln_v1_ListModelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _kiln_v1_ListModelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _kiln_v1_ListModelsRequest, callback: grpc.requestCallback<_kiln_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  
  ListTokens(argument: _kiln_v1_ListTokensRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListTokensResponse__Output>): grpc.ClientUnaryCall;
  ListTokens(argument: _kiln_v1_ListTokensRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListTokensResponse__Output>): grpc.ClientUnaryCall;
  ListTokens(argument: _kiln_v1_ListTokensRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListTokensResponse__Output>): grpc.ClientUnaryCall;
  ListTokens(argument: _kiln_v1_ListTokensRequest, callback: grpc.requestCallback<_kiln_v1_ListTokensResponse__Output>): grpc.ClientUnaryCall;
  listTokens(argument: _kiln_v1_ListTokensRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListTokensResponse__Output>): grpc.ClientUnaryCall;
  listTokens(argument: _kiln_v1_ListTokensRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListTokensResponse__Output>): grpc.ClientUnaryCall;
  listTokens(argument: _kiln_v1_ListTokensRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListTokensResponse__Output>): grpc.ClientUnaryCall;
  listTokens(argument: _kiln_v1_ListTokensRequest, callback: grpc.requestCallback<_kiln_v1_ListTokensResponse__Output>): grpc.ClientUnaryCall;
  
  ListWebhookDeliveries(argument: _kiln_v1_ListWebhookDeliveriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  ListWebhookDeliveries(argument: _kiln_v1_ListWebhookDeliveriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  ListWebhookDeliveries(argument: _kiln_v1_ListWebhookDeliveriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  ListWebhookDeliveries(argument: _kiln_v1_ListWebhookDeliveriesRequest, callback: grpc.requestCallback<_kiln_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  listWebhookDeliveries(argument: _kiln_v1_ListWebhookDeliveriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  listWebhookDeliveries(argument: _kiln_v1_ListWebhookDeliveriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  listWebhookDeliveries(argument: _kiln_v1_ListWebhookDeliveriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  listWebhookDeliveries(argument: _kiln_v1_ListWebhookDeliveriesRequest, callback: grpc.requestCallback<_kiln_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  
  ListWebhooks(argument: _kiln_v1_ListWebhooksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListWebhooksResponse__Output>): grpc.ClientUnaryCall;
  ListWebhooks(argument: _kiln_v1_ListWebhooksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListWebhooksResponse__Output>): grpc.ClientUnaryCall;
  ListWebhooks(argument: _kiln_v1_ListWebhooksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListWebhooksResponse__Output>): grpc.ClientUnaryCall;
  ListWebhooks(argument: _kiln_v1_ListWebhooksRequest, callback: grpc.requestCallback<_kiln_v1_ListWebhooksResponse__Output>): grpc.ClientUnaryCall;
  listWebhooks(argument: _kiln_v1_ListWebhooksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListWebhooksResponse__Output>): grpc.ClientUnaryCall;
  listWebhooks(argument: _kiln_v1_ListWebhooksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ListWebhooksResponse__Output>): grpc.ClientUnaryCall;
  listWebhooks(argument: _kiln_v1_ListWebhooksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ListWebhooksResponse__Output>): grpc.ClientUnaryCall;
  listWebhooks(argument: _kiln_v1_ListWebhooksRequest, callback: grpc.requestCallback<_kiln_v1_ListWebhooksResponse__Output>): grpc.ClientUnaryCall;
  
  RevokeToken(argument: _kiln_v1_RevokeTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Token__Output>): grpc.ClientUnaryCall;
  RevokeToken(argument: _kiln_v1_RevokeTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_Token__Output>): grpc.ClientUnaryCall;
  RevokeToken(argument: _kiln_v1_RevokeTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Token__Output>): grpc.ClientUnaryCall;
  RevokeToken(argument: _kiln_v1_RevokeTokenRequest, callback: grpc.requestCallback<_kiln_v1_Token__Output>): grpc.ClientUnaryCall;
  revokeToken(argument: _kiln_v1_RevokeTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Token__Output>): grpc.ClientUnaryCall;
  revokeToken(argument: _kiln_v1_RevokeTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_Token__Output>): grpc.ClientUnaryCall;
  revokeToken(argument: _kiln_v1_RevokeTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_Token__Output>): grpc.ClientUnaryCall;
  revokeToken(argument: _kiln_v1_RevokeTokenRequest, callback: grpc.requestCallback<_kiln_v1_Token__Output>): grpc.ClientUnaryCall;
  
  SetModelAlias(argument: _kiln_v1_SetModelAliasRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  SetModelAlias(argument: _kiln_v1_SetModelAliasRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  SetModelAlias(argument: _kiln_v1_SetModelAliasRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  SetModelAlias(argument: _kiln_v1_SetModelAliasRequest, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  setModelAlias(argument: _kiln_v1_SetModelAliasRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  setModelAlias(argument: _kiln_v1_SetModelAliasRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  setModelAlias(argument: _kiln_v1_SetModelAliasRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  setModelAlias(argument: _kiln_v1_SetModelAliasRequest, callback: grpc.requestCallback<_kiln_v1_ModelAlias__Output>): grpc.ClientUnaryCall;
  
  UpdateModelVersion(argument: _kiln_v1_UpdateModelVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  UpdateModelVersion(argument: _kiln_v1_UpdateModelVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  UpdateModelVersion(argument: _kiln_v1_UpdateModelVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  UpdateModelVersion(argument: _kiln_v1_UpdateModelVersionRequest, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  updateModelVersion(argument: _kiln_v1_UpdateModelVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  updateModelVersion(argument: _kiln_v1_UpdateModelVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  updateModelVersion(argument: _kiln_v1_UpdateModelVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  updateModelVersion(argument: _kiln_v1_UpdateModelVersionRequest, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  
  UploadModel(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientWritableStream<_kiln_v1_UploadModelRequest>;
  UploadModel(metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientWritableStream<_kiln_v1_UploadModelRequest>;
  UploadModel(options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientWritableStream<_kiln_v1_UploadModelRequest>;
  UploadModel(callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientWritableStream<_kiln_v1_UploadModelRequest>;
  uploadModel(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientWritableStream<_kiln_v1_UploadModelRequest>;
  uploadModel(metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientWritableStream<_kiln_v1_UploadModelRequest>;
  uploadModel(options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientWritableStream<_kiln_v1_UploadModelRequest>;
  uploadModel(callback: grpc.requestCallback<_kiln_v1_ModelVersion__Output>): grpc.ClientWritableStream<_kiln_v1_UploadModelRequest>;
  
  WatchModelVersion(argument: _kiln_v1_WatchModelVersionRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_WatchModelVersionResponse__Output>;
  WatchModelVersion(argument: _kiln_v1_WatchModelVersionRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_WatchModelVersionResponse__Output>;
  watchModelVersion(argument: _kiln_v1_WatchModelVersionRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_WatchModelVersionResponse__Output>;
  watchModelVersion(argument: _kiln_v1_WatchModelVersionRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_WatchModelVersionResponse__Output>;
  
  WatchModels(argument: _kiln_v1_WatchModelsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_RegistryEvent__Output>;
  WatchModels(argument: _kiln_v1_WatchModelsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_RegistryEvent__Output>;
  watchModels(argument: _kiln_v1_WatchModelsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_RegistryEvent__Output>;
  watchModels(argument: _kiln_v1_WatchModelsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_RegistryEvent__Output>;
  
}

export interface RegistryHandlers extends grpc.UntypedServiceImplementation {
  CreateToken: grpc.handleUnaryCall<_kiln_v1_CreateTokenRequest__Output, _kiln_v1_CreateTokenResponse>;
  
  CreateWebhook: grpc.handleUnaryCall<_kiln_v1_CreateWebhookRequest__Output, _kiln_v1_Webhook>;
  
  DeleteModelAlias: grpc.handleUnaryCall<_kiln_v1_DeleteModelAliasRequest__Output, _kiln_v1_ModelAlias>;
  
  DeleteModelVersion: grpc.handleUnaryCall<_kiln_v1_DeleteModelVersionRequest__Output, _kiln_v1_ModelVersion>;
  
  DeleteWebhook: grpc.handleUnaryCall<_kiln_v1_DeleteWebhookRequest__Output, _kiln_v1_Webhook>;
  
  DiffContracts: grpc.handleUnaryCall<_kiln_v1_DiffContractsRequest__Output, _kiln_v1_DiffContractsResponse>;
  
  DownloadModelVersion: grpc.handleServerStreamingCall<_kiln_v1_DownloadModelVersionRequest__Output, _kiln_v1_DownloadModelVersionResponse>;
  
  EnableWebhook: grpc.handleUnaryCall<_kiln_v1_EnableWebhookRequest__Output, _kiln_v1_Webhook>;
  
  GetModelVersion: grpc.handleUnaryCall<_kiln_v1_GetModelVersionRequest__Output, _kiln_v1_ModelVersion>;
  
  ListAliasHistory: grpc.handleUnaryCall<_kiln_v1_ListAliasHistoryRequest__Output, _kiln_v1_ListAliasHistoryResponse>;
  
  ListAuditEvents: grpc.handleUnaryCall<_kiln_v1_ListAuditEventsRequest__Output, _kiln_v1_ListAuditEventsResponse>;
  
  ListModelAliases: grpc.handleUnaryCall<_kiln_v1_ListModelAliasesRequest__Output, _kiln_v1_ListModelAliasesResponse>;
  
  ListModelVersions: grpc.handleUnaryCall<_kiln_v1_ListModelVersionsRequest__Output, _kiln_v1_ListModelVersionsResponse>;
  
  ListModels: grpc.handleUnaryCall<_kiln_v1_ListModelsRequest__Output, _kiln_v1_ListModelsResponse>;
  
  ListTokens: grpc.handleUnaryCall<_kiln_v1_ListTokensRequest__Output, _kiln_v1_ListTokensResponse>;
  
  ListWebhookDeliveries: grpc.handleUnaryCall<_kiln_v1_ListWebhookDeliveriesRequest__Output, _kiln_v1_ListWebhookDeliveriesResponse>;
  
  ListWebhooks: grpc.handleUnaryCall<_kiln_v1_ListWebhooksRequest__Output, _kiln_v1_ListWebhooksResponse>;
  
  RevokeToken: grpc.handleUnaryCall<_kiln_v1_RevokeTokenRequest__Output, _kiln_v1_Token>;
  
  SetModelAlias: grpc.handleUnaryCall<_kiln_v1_SetModelAliasRequest__Output, _kiln_v1_ModelAlias>;
  
  UpdateModelVersion: grpc.handleUnaryCall<_kiln_v1_UpdateModelVersionRequest__Output, _kiln_v1_ModelVersion>;
  
  UploadModel: grpc.handleClientStreamingCall<_kiln_v1_UploadModelRequest__Output, _kiln_v1_ModelVersion>;
  
  WatchModelVersion: grpc.handleServerStreamingCall<_kiln_v1_WatchModelVersionRequest__Output, _kiln_v1_WatchModelVersionResponse>;
  
  WatchModels: grpc.handleServerStreamingCall<_kiln_v1_WatchModelsRequest__Output, _kiln_v1_RegistryEvent>;
  
}

export interface RegistryDefinition extends grpc.ServiceDefinition {
  CreateToken: MethodDefinition<_kiln_v1_CreateTokenRequest, _kiln_v1_CreateTokenResponse, _kiln_v1_CreateTokenRequest__Output, _kiln_v1_CreateTokenResponse__Output>
  CreateWebhook: MethodDefinition<_kiln_v1_CreateWebhookRequest, _kiln_v1_Webhook, _kiln_v1_CreateWebhookRequest__Output, _kiln_v1_Webhook__Output>
  DeleteModelAlias: MethodDefinition<_kiln_v1_DeleteModelAliasRequest, _kiln_v1_ModelAlias, _kiln_v1_DeleteModelAliasRequest__Output, _kiln_v1_ModelAlias__Output>
  DeleteModelVersion: MethodDefinition<_kiln_v1_DeleteModelVersionRequest, _kiln_v1_ModelVersion, _kiln_v1_DeleteModelVersionRequest__Output, _kiln_v1_ModelVersion__Output>
  DeleteWebhook: MethodDefinition<_kiln_v1_DeleteWebhookRequest, _kiln_v1_Webhook, _kiln_v1_DeleteWebhookRequest__Output, _kiln_v1_Webhook__Output>
  DiffContracts: MethodDefinition<_kiln_v1_DiffContractsRequest, _kiln_v1_DiffContractsResponse, _kiln_v1_DiffContractsRequest__Output, _kiln_v1_DiffContractsResponse__Output>
  DownloadModelVersion: MethodDefinition<_kiln_v1_DownloadModelVersionRequest, _kiln_v1_DownloadModelVersionResponse, _kiln_v1_DownloadModelVersionRequest__Output, _kiln_v1_DownloadModelVersionResponse__Output>
  EnableWebhook: MethodDefinition<_kiln_v1_EnableWebhookRequest, _kiln_v1_Webhook, _kiln_v1_EnableWebhookRequest__Output, _kiln_v1_Webhook__Output>
  GetModelVersion: MethodDefinition<_kiln_v1_GetModelVersionRequest, _kiln_v1_ModelVersion, _kiln_v1_GetModelVersionRequest__Output, _kiln_v1_ModelVersion__Output>
  ListAliasHistory: MethodDefinition<_kiln_v1_ListAliasHistoryRequest, _kiln_v1_ListAliasHistoryResponse, _kiln_v1_ListAliasHistoryRequest__Output, _kiln_v1_ListAliasHistoryResponse__Output>
  ListAuditEvents: MethodDefinition<_kiln_v1_ListAuditEventsRequest, _kiln_v1_ListAuditEventsResponse, _kiln_v1_ListAuditEventsRequest__Output, _kiln_v1_ListAuditEventsResponse__Output>
  ListModelAliases: MethodDefinition<_kiln_v1_ListModelAliasesRequest, _kiln_v1_ListModelAliasesResponse, _kiln_v1_ListModelAliasesRequest__Output, _kiln_v1_ListModelAliasesResponse__Output>
  ListModelVersions: MethodDefinition<_kiln_v1_ListModelVersionsRequest, _kiln_v1_ListModelVersionsResponse, _kiln_v1_ListModelVersionsRequest__Output, _kiln_v1_ListModelVersionsResponse__Output>
  ListModels: MethodDefinition<_kiln_v1_ListModelsRequest, _kiln_v1_ListModelsResponse, _kiln_v1_ListModelsRequest__Output, _kiln_v1_ListModelsResponse__Output>
  ListTokens: MethodDefinition<_kiln_v1_ListTokensRequest, _kiln_v1_ListTokensResponse, _kiln_v1_ListTokensRequest__Output, _kiln_v1_ListTokensResponse__Output>
  ListWebhookDeliveries: MethodDefinition<_kiln_v1_ListWebhookDeliveriesRequest, _kiln_v1_ListWebhookDeliveriesResponse, _kiln_v1_ListWebhookDeliveriesRequest__Output, _kiln_v1_ListWebhookDeliveriesResponse__Output>
  ListWebhooks: MethodDefinition<_kiln_v1_ListWebhooksRequest, _kiln_v1_ListWebhooksResponse, _kiln_v1_ListWebhooksRequest__Output, _kiln_v1_ListWebhooksResponse__Output>
  RevokeToken: MethodDefinition<_kiln_v1_RevokeTokenRequest, _kiln_v1_Token, _kiln_v1_RevokeTokenRequest__Output, _kiln_v1_Token__Output>
  SetModelAlias: MethodDefinition<_kiln_v1_SetModelAliasRequest, _kiln_v1_ModelAlias, _kiln_v1_SetModelAliasRequest__Output, _kiln_v1_ModelAlias__Output>
  UpdateModelVersion: MethodDefinition<_kiln_v1_UpdateModelVersionRequest, _kiln_v1_ModelVersion, _kiln_v1_UpdateModelVersionRequest__Output, _kiln_v1_ModelVersion__Output>
  UploadModel: MethodDefinition<_kiln_v1_UploadModelRequest, _kiln_v1_ModelVersion, _kiln_v1_UploadModelRequest__Output, _kiln_v1_ModelVersion__Output>
  WatchModelVersion: MethodDefinition<_kiln_v1_WatchModelVersionRequest, _kiln_v1_WatchModelVersionResponse, _kiln_v1_WatchModelVersionRequest__Output, _kiln_v1_WatchModelVersionResponse__Output>
  WatchModels: MethodDefinition<_kiln_v1_WatchModelsRequest, _kiln_v1_RegistryEvent, _kiln_v1_WatchModelsRequest__Output, _kiln_v1_RegistryEvent__Output>
}
