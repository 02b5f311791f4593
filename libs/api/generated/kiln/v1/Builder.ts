// Original file: proto/kiln/v1/builder.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BuildModelVersionRequest as _kiln_v1_BuildModelVersionRequest, BuildModelVersionRequest__Output as _kiln_v1_BuildModelVersionRequest__Output } from '../../kiln/v1/BuildModelVersionRequest';
import type { BuildModelVersionResponse as _kiln_v1_BuildModelVersionResponse, BuildModelVersionResponse__Output as _kiln_v1_BuildModelVersionResponse__Output } from '../../kiln/v1/BuildModelVersionResponse';

export interface BuilderClient extends grpc.Client {
  BuildModelVersion(argument: _kiln_v1_BuildModelVersionRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_BuildModelVersionResponse__Output>;
  BuildModelVersion(argument: _kiln_v1_BuildModelVersionRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_BuildModelVersionResponse__Output>;
  buildModelVersion(argument: _kiln_v1_BuildModelVersionRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_BuildModelVersionResponse__Output>;
  buildModelVersion(argument: _kiln_v1_BuildModelVersionRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_BuildModelVersionResponse__Output>;
  
}

export interface BuilderHandlers extends grpc.UntypedServiceImplementation {
  BuildModelVersion: grpc.handleServerStreamingCall<_kiln_v1_BuildModelVersionRequest__Output, _kiln_v1_BuildModelVersionResponse>;
  
}

export interface BuilderDefinition extends grpc.ServiceDefinition {
  BuildModelVersion: MethodDefinition<_kiln_v1_BuildModelVersionRequest, _kiln_v1_BuildModelVersionResponse, _kiln_v1_BuildModelVersionRequest__Output, _kiln_v1_BuildModelVersionResponse__Output>
}
