// The kiln.v1.Registry WatchModels RPC: the event log from a resume token (or from now), then each event as it
// commits, filtered by namespace, model and kind. Who may call it is the policy table's (policy.ts).
import type { RegistryImplementation } from '@kiln/api/handlers';
import type { EventKind as ProtoEventKind } from '@kiln/api/generated/kiln/v1/EventKind';
import type { RegistryEvent } from '@kiln/api/generated/kiln/v1/RegistryEvent';
import { toTimestamp } from '@kiln/api/timestamp';
import { invalidArgument, KilnError } from '@kiln/errors';
import { decodePageToken, encodePageToken } from './convert';
import type { EventTail } from './event-log';
import { canonicalModelName, validateNamespace } from './names';
import type { EventKind, EventStore, RegistryEventRecord } from './store';

/** Events read per query: a watcher far behind catches up page by page. */
const PAGE = 500;

export function eventToProto(e: RegistryEventRecord): RegistryEvent {
  return {
    resumeToken: encodePageToken(e.id),
    time: toTimestamp(e.time),
    kind: `EVENT_KIND_${e.kind}` as ProtoEventKind,
    model: e.model,
    namespace: e.namespace,
    version: e.version,
    alias: e.alias,
    previousVersion: e.previousVersion,
    caller: e.caller,
    labels: e.details.labels ?? {},
    image: e.details.image ?? '',
    failureReason: e.details.failureReason ?? '',
  };
}

/** A request's kind filter as the store names kinds; UNSPECIFIED or an unknown number is refused. */
export function eventKindsOf(kinds: readonly (ProtoEventKind | string | number)[], where: string): EventKind[] {
  return kinds.map((k, i) => {
    const kind = String(k).replace(/^EVENT_KIND_/, '');
    if (kind === 'UNSPECIFIED' || /^\d+$/.test(kind)) throw invalidArgument(`${k} is not an event kind to filter by`, `${where}[${i}]`);
    return kind as EventKind;
  });
}

export function eventHandlers(store: EventStore, tail: EventTail): Pick<RegistryImplementation, 'WatchModels'> {
  return {
    async *WatchModels(request, context) {
      const where = 'WatchModelsRequest';
      const model = request.model ? canonicalModelName(request.model, `${where}.model`) : undefined;
      if (request.namespace) validateNamespace(request.namespace, `${where}.namespace`);
      const namespace = request.namespace || undefined;
      const kinds = new Set(eventKindsOf(request.kinds, `${where}.kinds`));
      // No token: from the log's end now (the database's: this replica's tail may not have seen another's commit yet).
      let cursor = decodePageToken<number>(request.resumeToken, 'number', `${where}.resume_token`) ?? await store.lastEventId();
      // A shutdown ends the watch (UNAVAILABLE, below) so that the client resumes on another replica.
      const stop = AbortSignal.any([context.signal, context.shutdown]);
      while (!stop.aborted) {
        // Every event up to the tail's position has committed (events commit in id order): read up to there.
        const horizon = tail.position;
        const events = await store.eventsAfter({ afterId: cursor, limit: PAGE, model, namespace });
        for (const e of events) {
          cursor = e.id;
          if (!kinds.size || kinds.has(e.kind)) yield eventToProto(e);
        }
        if (events.length === PAGE) continue;
        cursor = Math.max(cursor, horizon);
        await tail.next(cursor, stop);
      }
      if (context.shutdown.aborted && !context.signal.aborted) throw new KilnError('UNAVAILABLE', 'the registry is shutting down; watch again with the last resume token');
    },
  };
}
