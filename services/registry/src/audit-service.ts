// The kiln.v1.Registry audit RPC (ListAuditEvents): validation and conversion at the edge; what is recorded is
// audit.ts's. Who may call it is the policy table's (policy.ts: admin on every namespace).
import { isStatusCodeName } from '@kiln/api';
import type { RegistryImplementation } from '@kiln/api/handlers';
import type { AuditEvent } from '@kiln/api/generated/kiln/v1/AuditEvent';
import { fromTimestamp, toTimestamp } from '@kiln/api/timestamp';
import { invalidArgument } from '@kiln/errors';
import { decodePageToken, encodePageToken, pageSize } from './convert';
import { canonicalModelName, validateNamespace } from './names';
import type { AuditEventRecord, AuditStore } from './store';

const REGISTRY = 'kiln.v1.Registry';

function auditEventToProto(e: AuditEventRecord): AuditEvent {
  return {
    id: e.id,
    time: toTimestamp(e.time),
    caller: e.caller,
    rpc: e.rpc,
    model: e.model,
    namespace: e.namespace,
    version: e.version,
    result: e.result,
    message: e.message,
    peer: e.peer,
    callId: e.callId,
  };
}

/** A result filter: OK or a gRPC status code name, so that a typo is an error rather than an empty list. */
function resultFilter(result: string, where: string): string | undefined {
  if (!result) return undefined;
  const upper = result.toUpperCase();
  if (!isStatusCodeName(upper)) {
    throw invalidArgument(`${JSON.stringify(result)} is not a result: OK or a gRPC status code (PERMISSION_DENIED, INVALID_ARGUMENT, ...)`, where);
  }
  return upper;
}

export function auditHandlers(store: AuditStore): Pick<RegistryImplementation, 'ListAuditEvents'> {
  return {
    async ListAuditEvents(request) {
      const where = 'ListAuditEventsRequest';
      const size = pageSize(request.pageSize, `${where}.page_size`);
      const before = decodePageToken<number>(request.pageToken, 'number', `${where}.page_token`);
      if (request.namespace) validateNamespace(request.namespace, `${where}.namespace`);
      const startTime = fromTimestamp(request.startTime) ?? undefined;
      const endTime = fromTimestamp(request.endTime) ?? undefined;
      if (startTime && endTime && startTime >= endTime) throw invalidArgument('start_time must be before end_time', `${where}.start_time`);
      const events = await store.listAuditEvents({
        pageSize: size + 1,
        beforeId: before,
        model: request.model ? canonicalModelName(request.model, `${where}.model`) : undefined,
        namespace: request.namespace || undefined,
        caller: request.caller || undefined,
        rpc: request.rpc ? (request.rpc.includes('/') ? request.rpc : `${REGISTRY}/${request.rpc}`) : undefined,
        result: resultFilter(request.result, `${where}.result`),
        startTime,
        endTime,
      });
      const page = events.slice(0, size);
      return {
        events: page.map(auditEventToProto),
        nextPageToken: events.length > size ? encodePageToken(page[page.length - 1].id) : '',
      };
    },
  };
}
