// Original file: proto/kiln/v1/builder.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BuildModelVersionRequest as _kiln_v1_BuildModelVersionRequest, BuildModelVersionRequest__Output as _kiln_v1_BuildModelVersionRequest__Output } from '../../kiln/v1/BuildModelVersionRequest';
import type { BuildModelVersionResponse as _kiln_v1_BuildModelVersionResponse, BuildModelVersionResponse__Output as _kiln_v1_BuildModelVersionResponse__Output } from '../../kiln/v1/BuildModelVersionResponse';
import type { TagModelVersionRequest as _kiln_v1_TagModelVersionRequest, TagModelVersionRequest__Output as _kiln_v1_TagModelVersionRequest__Output } from '../../kiln/v1/TagModelVersionRequest';
import type { TagModelVersionResponse as _kiln_v1_TagModelVersionResponse, TagModelVersionResponse__Output as _kiln_v1_TagModelVersionResponse__Output } from '../../kiln/v1/TagModelVersionResponse';
import type { UntagModelVersionRequest as _kiln_v1_UntagModelVersionRequest, UntagModelVersionRequest__Output as _kiln_v1_UntagModelVersionRequest__Output } from '../../kiln/v1/UntagModelVersionRequest';
import type { UntagModelVersionResponse as _kiln_v1_UntagModelVersionResponse, UntagModelVersionResponse__Output as _kiln_v1_UntagModelVersionResponse__Output } from '../../kiln/v1/UntagModelVersionResponse';

export interface BuilderClient extends grpc.Client {
  BuildModelVersion(argument: _kiln_v1_BuildModelVersionRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_BuildModelVersionResponse__Output>;
  BuildModelVersion(argument: _kiln_v1_BuildModelVersionRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_BuildModelVersionResponse__Output>;
  buildModelVersion(argument: _kiln_v1_BuildModelVersionRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_BuildModelVersionResponse__Output>;
  buildModelVersion(argument: _kiln_v1_BuildModelVersionRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kiln_v1_BuildModelVersionResponse__Output>;
  
  TagModelVersion(argument: _kiln_v1_TagModelVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_TagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  TagModelVersion(argument: _kiln_v1_TagModelVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_TagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  TagModelVersion(argument: _kiln_v1_TagModelVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_TagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  TagModelVersion(argument: _kiln_v1_TagModelVersionRequest, callback: grpc.requestCallback<_kiln_v1_TagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  tagModelVersion(argument: _kiln_v1_TagModelVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_TagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  tagModelVersion(argument: _kiln_v1_TagModelVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_TagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  tagModelVersion(argument: _kiln_v1_TagModelVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_TagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  tagModelVersion(argument: _kiln_v1_TagModelVersionRequest, callback: grpc.requestCallback<_kiln_v1_TagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  
  UntagModelVersion(argument: _kiln_v1_UntagModelVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_UntagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  UntagModelVersion(argument: _kiln_v1_UntagModelVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_UntagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  UntagModelVersion(argument: _kiln_v1_UntagModelVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_UntagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  UntagModelVersion(argument: _kiln_v1_UntagModelVersionRequest, callback: grpc.requestCallback<_kiln_v1_UntagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  untagModelVersion(argument: _kiln_v1_UntagModelVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_UntagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  untagModelVersion(argument: _kiln_v1_UntagModelVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_UntagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  untagModelVersion(argument: _kiln_v1_UntagModelVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_UntagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  untagModelVersion(argument: _kiln_v1_UntagModelVersionRequest, callback: grpc.requestCallback<_kiln_v1_UntagModelVersionResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface BuilderHandlers extends grpc.UntypedServiceImplementation {
  BuildModelVersion: grpc.handleServerStreamingCall<_kiln_v1_BuildModelVersionRequest__Output, _kiln_v1_BuildModelVersionResponse>;
  
  TagModelVersion: grpc.handleUnaryCall<_kiln_v1_TagModelVersionRequest__Output, _kiln_v1_TagModelVersionResponse>;
  
  UntagModelVersion: grpc.handleUnaryCall<_kiln_v1_UntagModelVersionRequest__Output, _kiln_v1_UntagModelVersionResponse>;
  
}

export interface BuilderDefinition extends grpc.ServiceDefinition {
  BuildModelVersion: MethodDefinition<_kiln_v1_BuildModelVersionRequest, _kiln_v1_BuildModelVersionResponse, _kiln_v1_BuildModelVersionRequest__Output, _kiln_v1_BuildModelVersionResponse__Output>
  TagModelVersion: MethodDefinition<_kiln_v1_TagModelVersionRequest, _kiln_v1_TagModelVersionResponse, _kiln_v1_TagModelVersionRequest__Output, _kiln_v1_TagModelVersionResponse__Output>
  UntagModelVersion: MethodDefinition<_kiln_v1_UntagModelVersionRequest, _kiln_v1_UntagModelVersionResponse, _kiln_v1_UntagModelVersionRequest__Output, _kiln_v1_UntagModelVersionResponse__Output>
}
