import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
import type { RegistryEvent as _kiln_v1_RegistryEvent, RegistryEvent__Output as _kiln_v1_RegistryEvent__Output } from './kiln/v1/RegistryEvent';
import type { WatchModelsRequest as _kiln_v1_WatchModelsRequest, WatchModelsRequest__Output as _kiln_v1_WatchModelsRequest__Output } from './kiln/v1/WatchModelsRequest';

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
      EventKind: EnumTypeDefinition
      RegistryEvent: MessageTypeDefinition<_kiln_v1_RegistryEvent, _kiln_v1_RegistryEvent__Output>
      WatchModelsRequest: MessageTypeDefinition<_kiln_v1_WatchModelsRequest, _kiln_v1_WatchModelsRequest__Output>
    }
  }
}

