// Original file: proto/kiln/v1/inference.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { InferContractFromUploadRequest as _kiln_v1_InferContractFromUploadRequest, InferContractFromUploadRequest__Output as _kiln_v1_InferContractFromUploadRequest__Output } from '../../kiln/v1/InferContractFromUploadRequest';
import type { InferContractRequest as _kiln_v1_InferContractRequest, InferContractRequest__Output as _kiln_v1_InferContractRequest__Output } from '../../kiln/v1/InferContractRequest';
import type { InferContractResponse as _kiln_v1_InferContractResponse, InferContractResponse__Output as _kiln_v1_InferContractResponse__Output } from '../../kiln/v1/InferContractResponse';

export interface InferenceClient extends grpc.Client {
  InferContract(argument: _kiln_v1_InferContractRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientUnaryCall;
  InferContract(argument: _kiln_v1_InferContractRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientUnaryCall;
  InferContract(argument: _kiln_v1_InferContractRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientUnaryCall;
  InferContract(argument: _kiln_v1_InferContractRequest, callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientUnaryCall;
  inferContract(argument: _kiln_v1_InferContractRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientUnaryCall;
  inferContract(argument: _kiln_v1_InferContractRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientUnaryCall;
  inferContract(argument: _kiln_v1_InferContractRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientUnaryCall;
  inferContract(argument: _kiln_v1_InferContractRequest, callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientUnaryCall;
  
  InferContractFromUpload(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientWritableStream<_kiln_v1_InferContractFromUploadRequest>;
  InferContractFromUpload(metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientWritableStream<_kiln_v1_InferContractFromUploadRequest>;
  InferContractFromUpload(options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientWritableStream<_kiln_v1_InferContractFromUploadRequest>;
  InferContractFromUpload(callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientWritableStream<_kiln_v1_InferContractFromUploadRequest>;
  inferContractFromUpload(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientWritableStream<_kiln_v1_InferContractFromUploadRequest>;
  inferContractFromUpload(metadata: grpc.Metadata, callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientWritableStream<_kiln_v1_InferContractFromUploadRequest>;
  inferContractFromUpload(options: grpc.CallOptions, callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientWritableStream<_kiln_v1_InferContractFromUploadRequest>;
  inferContractFromUpload(callback: grpc.requestCallback<_kiln_v1_InferContractResponse__Output>): grpc.ClientWritableStream<_kiln_v1_InferContractFromUploadRequest>;
  
}

export interface InferenceHandlers extends grpc.UntypedServiceImplementation {
  InferContract: grpc.handleUnaryCall<_kiln_v1_InferContractRequest__Output, _kiln_v1_InferContractResponse>;
  
  InferContractFromUpload: grpc.handleClientStreamingCall<_kiln_v1_InferContractFromUploadRequest__Output, _kiln_v1_InferContractResponse>;
  
}

export interface InferenceDefinition extends grpc.ServiceDefinition {
  InferContract: MethodDefinition<_kiln_v1_InferContractRequest, _kiln_v1_InferContractResponse, _kiln_v1_InferContractRequest__Output, _kiln_v1_InferContractResponse__Output>
  InferContractFromUpload: MethodDefinition<_kiln_v1_InferContractFromUploadRequest, _kiln_v1_InferContractResponse, _kiln_v1_InferContractFromUploadRequest__Output, _kiln_v1_InferContractResponse__Output>
}
