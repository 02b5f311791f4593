import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
import type { CreateTokenRequest as _kiln_v1_CreateTokenRequest, CreateTokenRequest__Output as _kiln_v1_CreateTokenRequest__Output } from './kiln/v1/CreateTokenRequest';
import type { CreateTokenResponse as _kiln_v1_CreateTokenResponse, CreateTokenResponse__Output as _kiln_v1_CreateTokenResponse__Output } from './kiln/v1/CreateTokenResponse';
import type { ListTokensRequest as _kiln_v1_ListTokensRequest, ListTokensRequest__Output as _kiln_v1_ListTokensRequest__Output } from './kiln/v1/ListTokensRequest';
import type { ListTokensResponse as _kiln_v1_ListTokensResponse, ListTokensResponse__Output as _kiln_v1_ListTokensResponse__Output } from './kiln/v1/ListTokensResponse';
import type { RevokeTokenRequest as _kiln_v1_RevokeTokenRequest, RevokeTokenRequest__Output as _kiln_v1_RevokeTokenRequest__Output } from './kiln/v1/RevokeTokenRequest';
import type { RoleBinding as _kiln_v1_RoleBinding, RoleBinding__Output as _kiln_v1_RoleBinding__Output } from './kiln/v1/RoleBinding';
import type { Token as _kiln_v1_Token, Token__Output as _kiln_v1_Token__Output } from './kiln/v1/Token';

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
      CreateTokenRequest: MessageTypeDefinition<_kiln_v1_CreateTokenRequest, _kiln_v1_CreateTokenRequest__Output>
      CreateTokenResponse: MessageTypeDefinition<_kiln_v1_CreateTokenResponse, _kiln_v1_CreateTokenResponse__Output>
      ListTokensRequest: MessageTypeDefinition<_kiln_v1_ListTokensRequest, _kiln_v1_ListTokensRequest__Output>
      ListTokensResponse: MessageTypeDefinition<_kiln_v1_ListTokensResponse, _kiln_v1_ListTokensResponse__Output>
      RevokeTokenRequest: MessageTypeDefinition<_kiln_v1_RevokeTokenRequest, _kiln_v1_RevokeTokenRequest__Output>
      Role: EnumTypeDefinition
      RoleBinding: MessageTypeDefinition<_kiln_v1_RoleBinding, _kiln_v1_RoleBinding__Output>
      Token: MessageTypeDefinition<_kiln_v1_Token, _kiln_v1_Token__Output>
    }
  }
}

