import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Contract as _kiln_v1_Contract, Contract__Output as _kiln_v1_Contract__Output } from './kiln/v1/Contract';
import type { ContractChange as _kiln_v1_ContractChange, ContractChange__Output as _kiln_v1_ContractChange__Output } from './kiln/v1/ContractChange';
import type { DiffContractsRequest as _kiln_v1_DiffContractsRequest, DiffContractsRequest__Output as _kiln_v1_DiffContractsRequest__Output } from './kiln/v1/DiffContractsRequest';
import type { DiffContractsResponse as _kiln_v1_DiffContractsResponse, DiffContractsResponse__Output as _kiln_v1_DiffContractsResponse__Output } from './kiln/v1/DiffContractsResponse';
import type { Dim as _kiln_v1_Dim, Dim__Output as _kiln_v1_Dim__Output } from './kiln/v1/Dim';
import type { Field as _kiln_v1_Field, Field__Output as _kiln_v1_Field__Output } from './kiln/v1/Field';
import type { MapType as _kiln_v1_MapType, MapType__Output as _kiln_v1_MapType__Output } from './kiln/v1/MapType';
import type { OptionalType as _kiln_v1_OptionalType, OptionalType__Output as _kiln_v1_OptionalType__Output } from './kiln/v1/OptionalType';
import type { RaggedTensorType as _kiln_v1_RaggedTensorType, RaggedTensorType__Output as _kiln_v1_RaggedTensorType__Output } from './kiln/v1/RaggedTensorType';
import type { SequenceType as _kiln_v1_SequenceType, SequenceType__Output as _kiln_v1_SequenceType__Output } from './kiln/v1/SequenceType';
import type { Shape as _kiln_v1_Shape, Shape__Output as _kiln_v1_Shape__Output } from './kiln/v1/Shape';
import type { Signature as _kiln_v1_Signature, Signature__Output as _kiln_v1_Signature__Output } from './kiln/v1/Signature';
import type { SparseTensorType as _kiln_v1_SparseTensorType, SparseTensorType__Output as _kiln_v1_SparseTensorType__Output } from './kiln/v1/SparseTensorType';
import type { TensorType as _kiln_v1_TensorType, TensorType__Output as _kiln_v1_TensorType__Output } from './kiln/v1/TensorType';
import type { ValueType as _kiln_v1_ValueType, ValueType__Output as _kiln_v1_ValueType__Output } from './kiln/v1/ValueType';
import type { VersionSelector as _kiln_v1_VersionSelector, VersionSelector__Output as _kiln_v1_VersionSelector__Output } from './kiln/v1/VersionSelector';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  kiln: {
    v1: {
      ChangeSeverity: EnumTypeDefinition
      Contract: MessageTypeDefinition<_kiln_v1_Contract, _kiln_v1_Contract__Output>
      ContractChange: MessageTypeDefinition<_kiln_v1_ContractChange, _kiln_v1_ContractChange__Output>
      DataProfile: EnumTypeDefinition
      DataType: EnumTypeDefinition
      DiffContractsRequest: MessageTypeDefinition<_kiln_v1_DiffContractsRequest, _kiln_v1_DiffContractsRequest__Output>
      DiffContractsResponse: MessageTypeDefinition<_kiln_v1_DiffContractsResponse, _kiln_v1_DiffContractsResponse__Output>
      Dim: MessageTypeDefinition<_kiln_v1_Dim, _kiln_v1_Dim__Output>
      Field: MessageTypeDefinition<_kiln_v1_Field, _kiln_v1_Field__Output>
      MapType: MessageTypeDefinition<_kiln_v1_MapType, _kiln_v1_MapType__Output>
      OptionalType: MessageTypeDefinition<_kiln_v1_OptionalType, _kiln_v1_OptionalType__Output>
      RaggedTensorType: MessageTypeDefinition<_kiln_v1_RaggedTensorType, _kiln_v1_RaggedTensorType__Output>
      SequenceType: MessageTypeDefinition<_kiln_v1_SequenceType, _kiln_v1_SequenceType__Output>
      Shape: MessageTypeDefinition<_kiln_v1_Shape, _kiln_v1_Shape__Output>
      Signature: MessageTypeDefinition<_kiln_v1_Signature, _kiln_v1_Signature__Output>
      SparseTensorType: MessageTypeDefinition<_kiln_v1_SparseTensorType, _kiln_v1_SparseTensorType__Output>
      TensorType: MessageTypeDefinition<_kiln_v1_TensorType, _kiln_v1_TensorType__Output>
      ValueType: MessageTypeDefinition<_kiln_v1_ValueType, _kiln_v1_ValueType__Output>
      VersionSelector: MessageTypeDefinition<_kiln_v1_VersionSelector, _kiln_v1_VersionSelector__Output>
    }
  }
}

