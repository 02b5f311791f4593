import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
import type { AliasMove as _kiln_v1_AliasMove, AliasMove__Output as _kiln_v1_AliasMove__Output } from './kiln/v1/AliasMove';
import type { DeleteModelAliasRequest as _kiln_v1_DeleteModelAliasRequest, DeleteModelAliasRequest__Output as _kiln_v1_DeleteModelAliasRequest__Output } from './kiln/v1/DeleteModelAliasRequest';
import type { ListAliasHistoryRequest as _kiln_v1_ListAliasHistoryRequest, ListAliasHistoryRequest__Output as _kiln_v1_ListAliasHistoryRequest__Output } from './kiln/v1/ListAliasHistoryRequest';
import type { ListAliasHistoryResponse as _kiln_v1_ListAliasHistoryResponse, ListAliasHistoryResponse__Output as _kiln_v1_ListAliasHistoryResponse__Output } from './kiln/v1/ListAliasHistoryResponse';
import type { ListModelAliasesRequest as _kiln_v1_ListModelAliasesRequest, ListModelAliasesRequest__Output as _kiln_v1_ListModelAliasesRequest__Output } from './kiln/v1/ListModelAliasesRequest';
import type { ListModelAliasesResponse as _kiln_v1_ListModelAliasesResponse, ListModelAliasesResponse__Output as _kiln_v1_ListModelAliasesResponse__Output } from './kiln/v1/ListModelAliasesResponse';
import type { ModelAlias as _kiln_v1_ModelAlias, ModelAlias__Output as _kiln_v1_ModelAlias__Output } from './kiln/v1/ModelAlias';
import type { SetModelAliasRequest as _kiln_v1_SetModelAliasRequest, SetModelAliasRequest__Output as _kiln_v1_SetModelAliasRequest__Output } from './kiln/v1/SetModelAliasRequest';

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
      DeleteModelAliasRequest: MessageTypeDefinition<_kiln_v1_DeleteModelAliasRequest, _kiln_v1_DeleteModelAliasRequest__Output>
      ListAliasHistoryRequest: MessageTypeDefinition<_kiln_v1_ListAliasHistoryRequest, _kiln_v1_ListAliasHistoryRequest__Output>
      ListAliasHistoryResponse: MessageTypeDefinition<_kiln_v1_ListAliasHistoryResponse, _kiln_v1_ListAliasHistoryResponse__Output>
      ListModelAliasesRequest: MessageTypeDefinition<_kiln_v1_ListModelAliasesRequest, _kiln_v1_ListModelAliasesRequest__Output>
      ListModelAliasesResponse: MessageTypeDefinition<_kiln_v1_ListModelAliasesResponse, _kiln_v1_ListModelAliasesResponse__Output>
      ModelAlias: MessageTypeDefinition<_kiln_v1_ModelAlias, _kiln_v1_ModelAlias__Output>
      SetModelAliasRequest: MessageTypeDefinition<_kiln_v1_SetModelAliasRequest, _kiln_v1_SetModelAliasRequest__Output>
    }
  }
}

