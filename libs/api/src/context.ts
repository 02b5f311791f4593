// What a handler gets besides its request: the call's signal (client cancel, deadline, forced shutdown), the server's
// draining signal, the logger with the call's model and version, the caller, and its log fields.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { capText, KilnError } from '@kiln/errors';
import { peerCertificateOf, type PeerCertificate } from './tls';

/** Roles per namespace, each with the rights of the ones before it (the policy table says which RPC needs which). */
export const ROLES = ['reader', 'writer', 'maintainer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A role in one namespace, or in every one (`*`). */
export interface RoleBinding {
  readonly namespace: string;
  readonly role: Role;
}

/**
 * Who made a call, as the authentication interceptor found it: a Kiln API token, an OIDC/JWT subject, another Kiln
 * service (by its mTLS certificate or service token), or nobody (authentication off, or the open health check).
 */
export type Caller =
  | { readonly kind: 'anonymous'; readonly peer: string }
  | { readonly kind: 'token'; readonly peer: string; readonly tokenId: string; readonly owner: string; readonly bindings: readonly RoleBinding[] }
  | { readonly kind: 'oidc'; readonly peer: string; readonly issuer: string; readonly subject: string; readonly bindings: readonly RoleBinding[] }
  | { readonly kind: 'service'; readonly peer: string; readonly service: string };

/** The caller in one word, as logs and the audit trail name it: `token:<id>`, `oidc:<issuer>#<subject>`,
 * `service:<name>` or `anonymous`. Never a secret. */
export function callerName(caller: Caller): string {
  switch (caller.kind) {
    case 'token': return `token:${caller.tokenId}`;
    case 'oidc': return `oidc:${caller.issuer}#${caller.subject}`;
    case 'service': return `service:${caller.service}`;
    default: return 'anonymous';
  }
}

/**
 * One way to authenticate a bearer token (API tokens, OIDC). undefined when the token is not of its kind (another
 * verifier may know it); a KilnError UNAUTHENTICATED saying why (expired, revoked, bad signature) when it is and fails.
 */
export interface BearerVerifier {
  verify(token: string, peer: string): Promise<Caller | undefined>;
}

export interface HandlerContext {
  /** The method, as `kiln.v1.Registry/GetModelVersion`. */
  readonly rpc: string;
  /** Aborted when the client cancels or goes away, the deadline passes, or the server stops at the end of its grace
   * period; its reason is a KilnError (CANCELLED, DEADLINE_EXCEEDED). Everything a handler waits on should take it. */
  readonly signal: AbortSignal;
  /** Aborted when the server starts shutting down: calls that could last for ever (watches) end early, so that
   * their clients reconnect elsewhere; other calls drain within the grace period. */
  readonly shutdown: AbortSignal;
  /** When the client stops waiting (ms since the epoch), if it said. */
  readonly deadline?: number;
  /** The request's headers. */
  readonly metadata: grpc.Metadata;
  readonly caller: Caller;
  /** The server's logger with the call's log fields (the model name and version). */
  readonly logger: Logger;
  readonly logFields: Readonly<Record<string, unknown>>;
  /**
   * Throws PERMISSION_DENIED unless the caller holds `role` in `namespace`: for a right that depends on what is
   * stored (a protected alias) beyond the policy table's. Decided by the policy module the authorization interceptor
   * installs; nothing is checked when authentication is off.
   */
  requireRole(role: Role, namespace: string, what: string): void;
  /** Adds fields to every line logged about the call from now on (its logger's, its 'call failed' line): a client
   * stream names its model only in its first message. */
  addLogFields(fields: Record<string, unknown>): void;
}

export type RoleCheck = (caller: Caller, role: Role, namespace: string, what: string) => void;

/** The context as interceptors see it: authentication (next round) says who the caller is. */
export interface InterceptorContext extends HandlerContext {
  /** Calls `listener` once if the call is cancelled (client, deadline, forced shutdown). */
  onCancel(listener: (reason: KilnError) => void): void;
  setCaller(caller: Caller): void;
  /** What requireRole asks (the authorization interceptor's policy decision). */
  setRoleCheck(check: RoleCheck): void;
  /** The client's certificate, verified against KILN_TLS_CLIENT_CA (mTLS): what a service's identity is read from.
   * undefined on plaintext or TLS without a client certificate. */
  readonly peerCertificate: PeerCertificate | undefined;
}

/** A call's abort reasons, as KilnErrors so that handlers may throw them as they are. */
export const clientCancelled = () => new KilnError('CANCELLED', 'the client cancelled the call');
export const deadlinePassed = () => new KilnError('DEADLINE_EXCEEDED', 'the call\'s deadline passed');
export const serverStopping = () => new KilnError('CANCELLED', 'the server is shutting down: the call was cancelled');

/** A string log field's size at most: fields come from requests before they are validated (a 128 KiB name). */
const MAX_LOG_FIELD_BYTES = 256;

/** The model name and version a request names, for its log lines (Kiln requests call them model and version). */
export function requestLogFields(request: unknown): Record<string, unknown> {
  if (typeof request !== 'object' || request === null) return {};
  const { model, version } = request as { model?: unknown; version?: unknown };
  // Plain assignments, no spreads: made for every call that logs.
  const fields: Record<string, unknown> = {};
  if (typeof model === 'string' && model) fields.model = capText(model, MAX_LOG_FIELD_BYTES);
  if (typeof version === 'number' && version > 0) fields.version = version;
  return fields;
}

/**
 * One call's context. The signal (with its deadline timer), the logger and the caller are made when first asked
 * for: most calls (a cached lookup) never look at them, and an AbortController and a timer per call show in a
 * lookup's CPU (bench/README.md, api). A cancel before the signal exists is kept and given to it when made.
 */
export class CallContext implements InterceptorContext {
  readonly deadline?: number;
  /** Made from the request when first needed: most calls never log. */
  private fields?: Record<string, unknown>;
  private childLogger?: Logger;
  private knownCaller?: Caller;
  private roleCheck?: RoleCheck;
  private abort?: AbortController;
  private cancelReason?: KilnError;
  private cancelListeners?: Array<(reason: KilnError) => void>;
  private deadlineTimer?: NodeJS.Timeout;
  /** Whether the call's handler and interceptors have settled. */
  settled = false;

  constructor(
    readonly rpc: string,
    private readonly call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>,
    readonly shutdown: AbortSignal,
    private readonly serverLogger: Logger,
    private readonly request: unknown,
  ) {
    const deadline = call.getDeadline();
    const ms = deadline instanceof Date ? deadline.getTime() : deadline;
    if (Number.isFinite(ms)) this.deadline = ms;
  }

  get signal(): AbortSignal {
    if (!this.abort) {
      this.abort = new AbortController();
      if (this.cancelReason) this.abort.abort(this.cancelReason);
      else if (this.deadline !== undefined && !this.settled) {
        // grpc-js answers DEADLINE_EXCEEDED by itself but lets the handler run on: this stops it.
        this.deadlineTimer = setTimeout(() => this.cancel(deadlinePassed()), Math.max(0, this.deadline - Date.now()));
        this.deadlineTimer.unref();
      }
    }
    return this.abort.signal;
  }

  /** Calls `listener` once if the call is cancelled: for interceptors, cheaper than a listener on the signal. */
  onCancel(listener: (reason: KilnError) => void): void {
    if (this.cancelReason) listener(this.cancelReason);
    else (this.cancelListeners ??= []).push(listener);
  }

  get metadata(): grpc.Metadata {
    return this.call.metadata;
  }

  get caller(): Caller {
    return (this.knownCaller ??= { kind: 'anonymous', peer: this.call.getPeer() });
  }

  setCaller(caller: Caller): void {
    this.knownCaller = caller;
  }

  setRoleCheck(check: RoleCheck): void {
    this.roleCheck = check;
  }

  requireRole(role: Role, namespace: string, what: string): void {
    this.roleCheck?.(this.caller, role, namespace, what);
  }

  get peerCertificate(): PeerCertificate | undefined {
    return peerCertificateOf(this.call);
  }

  get logger(): Logger {
    const fields = this.logFields;
    return (this.childLogger ??= Object.keys(fields).length ? this.serverLogger.child(fields) : this.serverLogger);
  }

  get logFields(): Readonly<Record<string, unknown>> {
    return (this.fields ??= requestLogFields(this.request));
  }

  addLogFields(fields: Record<string, unknown>): void {
    const capped = Object.entries(fields).map(([k, v]) => [k, typeof v === 'string' ? capText(v, MAX_LOG_FIELD_BYTES) : v]);
    this.fields = { ...this.logFields, ...Object.fromEntries(capped) };
    this.childLogger = undefined;
  }

  /** Aborts the call's signal (once: the first reason stays). */
  cancel(reason: KilnError): void {
    if (this.cancelReason) return;
    this.cancelReason = reason;
    clearTimeout(this.deadlineTimer);
    this.abort?.abort(reason);
    for (const listener of this.cancelListeners ?? []) listener(reason);
    this.cancelListeners = undefined;
  }

  /** The call is over: no deadline to watch any more. */
  settle(): void {
    this.settled = true;
    clearTimeout(this.deadlineTimer);
    this.cancelListeners = undefined;
  }
}
