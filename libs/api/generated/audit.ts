import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
import type { AuditEvent as _kiln_v1_AuditEvent, AuditEvent__Output as _kiln_v1_AuditEvent__Output } from './kiln/v1/AuditEvent';
import type { ListAuditEventsRequest as _kiln_v1_ListAuditEventsRequest, ListAuditEventsRequest__Output as _kiln_v1_ListAuditEventsRequest__Output } from './kiln/v1/ListAuditEventsRequest';
import type { ListAuditEventsResponse as _kiln_v1_ListAuditEventsResponse, ListAuditEventsResponse__Output as _kiln_v1_ListAuditEventsResponse__Output } from './kiln/v1/ListAuditEventsResponse';

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
      AuditEvent: MessageTypeDefinition<_kiln_v1_AuditEvent, _kiln_v1_AuditEvent__Output>
      ListAuditEventsRequest: MessageTypeDefinition<_kiln_v1_ListAuditEventsRequest, _kiln_v1_ListAuditEventsRequest__Output>
      ListAuditEventsResponse: MessageTypeDefinition<_kiln_v1_ListAuditEventsResponse, _kiln_v1_ListAuditEventsResponse__Output>
    }
  }
}

