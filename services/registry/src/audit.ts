// The audit trail's rules, in one place: which calls are audited, what a record of one holds, and the interceptor
// that records what the handlers do not. A call that changes state records its success itself, inside the change's
// transaction (so the record commits with the change or not at all); the interceptor records every failure of such
// a call and every refused call (UNAUTHENTICATED, PERMISSION_DENIED) of any RPC, outside any transaction.
import { randomUUID } from 'node:crypto';
import { clientStatusOf } from '@kiln/api';
import { callerName, type HandlerContext } from '@kiln/api/context';
import type { Interceptor } from '@kiln/api/server';
import { capText } from '@kiln/errors';
import type { Logger } from '@kiln/log';
import { canonicalModelName, namespaceOf } from './names';
import type { AuditStore, NewAuditEvent } from './store';

/** The registry's calls that change state. */
export const STATE_CHANGING_RPCS: ReadonlySet<string> = new Set([
  'kiln.v1.Registry/UploadModel',
  'kiln.v1.Registry/DeleteModelVersion',
  'kiln.v1.Registry/CreateToken',
  'kiln.v1.Registry/RevokeToken',
  'kiln.v1.Registry/SetModelAlias',
  'kiln.v1.Registry/DeleteModelAlias',
  'kiln.v1.Registry/UpdateModelVersion',
  'kiln.v1.Registry/CreateWebhook',
  'kiln.v1.Registry/DeleteWebhook',
  'kiln.v1.Registry/EnableWebhook',
]);

/** Refusals: recorded for every RPC, reads included. */
const REFUSALS = new Set(['UNAUTHENTICATED', 'PERMISSION_DENIED']);

const MAX_MESSAGE_BYTES = 1024;
/** A name as a refused request gave it (before validation: it may be 128 KiB). */
const MAX_MODEL_BYTES = 256;

/** Each call's id, made when it is first recorded: one record per call. */
const callIds = new WeakMap<HandlerContext, string>();

function callIdOf(context: HandlerContext): string {
  let id = callIds.get(context);
  if (!id) callIds.set(context, (id = randomUUID()));
  return id;
}

/** A model name as a record keeps it: canonical when valid, else as given (capped), for a refusal's record. */
function recordedModel(model: unknown): string {
  if (typeof model !== 'string' || !model) return '';
  try {
    return canonicalModelName(model, 'model');
  } catch {
    return capText(model, MAX_MODEL_BYTES);
  }
}

export interface AuditedChange {
  model?: string;
  version?: number;
  /** OK unless given: a gRPC status code name. */
  result?: string;
  message: string;
}

/** The record of the call in `context`: who (the authenticated caller and its address), which RPC, what, and how it
 * ended. */
export function auditEvent(context: HandlerContext, change: AuditedChange): NewAuditEvent {
  const model = recordedModel(change.model);
  return {
    callId: callIdOf(context),
    caller: callerName(context.caller),
    rpc: context.rpc,
    model,
    namespace: model ? namespaceOf(model) : '',
    version: change.version ?? 0,
    result: change.result ?? 'OK',
    message: capText(change.message, MAX_MESSAGE_BYTES),
    peer: context.caller.peer,
  };
}

/** The record of what the registry does by itself at start (the bootstrap admin token): no call, no peer. */
export function startupAuditEvent(message: string): NewAuditEvent {
  return { callId: randomUUID(), caller: 'service:registry', rpc: 'registry/startup', model: '', namespace: '', version: 0, result: 'OK', message, peer: '' };
}

/**
 * Records the failed and refused calls; put before authentication, so that it sees what authentication and
 * authorization refuse. A record that cannot be written (Postgres down) is logged, and the call's own error stands.
 */
export function auditTrail(store: AuditStore, log: Logger): Interceptor {
  return (next) => async (call) => {
    const { context } = call;
    // What names the model: the request, or a client stream's first message (an upload's header).
    let named = call.request as { model?: unknown; version?: unknown } | undefined;
    if (call.type === 'client_stream') {
      call.onMessage((message) => {
        named ??= (message as { header?: { model?: unknown } }).header ?? {};
      });
    }
    try {
      await next(call);
    } catch (err) {
      const { code: result, message } = clientStatusOf(err);
      if (STATE_CHANGING_RPCS.has(context.rpc) || REFUSALS.has(result)) {
        const version = typeof named?.version === 'number' ? named.version : 0;
        const event = auditEvent(context, { model: named?.model as string | undefined, version, result, message });
        await store.recordAuditEvent(event).catch((writeErr) =>
          log.error({ err: writeErr, audit: event }, 'could not record a failed or refused call in the audit trail'),
        );
      }
      throw err;
    }
  };
}
