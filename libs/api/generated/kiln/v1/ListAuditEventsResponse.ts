// Original file: proto/kiln/v1/audit.proto

import type { AuditEvent as _kiln_v1_AuditEvent, AuditEvent__Output as _kiln_v1_AuditEvent__Output } from '../../kiln/v1/AuditEvent';

export interface ListAuditEventsResponse {
  'events'?: (_kiln_v1_AuditEvent)[];
  'nextPageToken'?: (string);
}

export interface ListAuditEventsResponse__Output {
  'events': (_kiln_v1_AuditEvent__Output)[];
  'nextPageToken': (string);
}
