// Cross-cutting work around every handler (metrics, logging, error mapping; authentication, authorization and audit
// next) as interceptors: each wraps the rest of the chain, and they compose in order.
import type { InterceptorContext } from '../context';

export type RpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

/** One call as interceptors see it. */
export interface ServerCall {
  /** Fully qualified service name, e.g. kiln.v1.Registry. */
  readonly service: string;
  readonly method: string;
  readonly type: RpcType;
  readonly context: InterceptorContext;
  /** The request of a unary or server-streaming call (undefined for a client stream: see onMessage). */
  readonly request?: unknown;
  /** Runs `check` on each message of a client stream as the handler reads it; what it throws fails the read. */
  onMessage(check: (message: unknown) => void): void;
}

/** Runs the rest of the chain: resolves once the call's response (or stream) is sent, rejects with why it failed. */
export type Next = (call: ServerCall) => Promise<void>;
export type Interceptor = (next: Next) => Next;

/** The chain: the first interceptor runs first and sees what the later ones and the handler did. */
export function chain(interceptors: readonly Interceptor[], handler: Next): Next {
  return interceptors.reduceRight<Next>((next, interceptor) => interceptor(next), handler);
}
