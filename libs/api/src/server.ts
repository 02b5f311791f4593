// Starting a Kiln gRPC server: the service implementations (handlers with a context, behind a chain of
// interceptors) plus grpc.health.v1 (following each service's dependencies) and server reflection on every server,
// and a graceful shutdown that drains in-flight calls.
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { CHANNEL_OPTIONS } from './index';
import { addLazyReflection, type ReflectionGuard } from './reflection';
import { withEncodedResponses } from './encoded';
import { CallContext, clientCancelled, serverStopping } from './context';
import type { AnyImplementation } from './handlers';
import { chain, type Interceptor, type Next, type RpcType, type ServerCall } from './interceptors/interceptor';
import { metrics } from './interceptors/metrics';
import { logging } from './interceptors/logging';
import { errorMapping } from './interceptors/errors';
import { requestCheck, type RequestCheck } from './int64';
import { monitorDependencies, type DependencyProbe, type HealthOptions } from './health';
import { serverCredentials, type ServerTlsSettings } from './tls';

export type { Interceptor, ServerCall } from './interceptors/interceptor';
export type { HandlerContext, Caller } from './context';
export type { DependencyProbe, HealthOptions } from './health';
export type { PeerCertificate, ServerTlsSettings } from './tls';

export interface ServiceRegistration {
  /** Fully qualified service name, e.g. kiln.v1.Registry (the health check key). */
  name: string;
  definition: grpc.ServiceDefinition;
  /** Its handlers (see handlers.ts): RegistryImplementation, BuilderImplementation, InferenceImplementation. */
  implementation: AnyImplementation;
  /** What it cannot serve without (its database, its blob store): its health is NOT_SERVING while one does not
   * answer (see health.ts). */
  dependencies?: DependencyProbe[];
}

export interface RunningServer {
  server: grpc.Server;
  /** host:port actually bound (port 0 picks a free one). */
  address: string;
  port: number;
  /** Stops accepting calls, waits for in-flight calls up to graceMs, then cancels the rest and waits (a bounded
   * time) for their handlers to finish cleaning up. */
  shutdown(graceMs?: number): Promise<void>;
}

export interface ServerOptions {
  /** Interceptors run after the built-in ones (metrics, logging, error mapping), in order: what
   * they throw is mapped to a status, logged and counted like a handler's errors. */
  interceptors?: Interceptor[];
  /** How often, and how patiently, the services' dependencies are probed. */
  health?: HealthOptions;
  /** Serve TLS (mTLS with a client CA) instead of plaintext; see tls.ts. */
  tls?: ServerTlsSettings;
  /** Run before each reflection call (served outside the chain, as health is): what it throws refuses the call. */
  guardReflection?: ReflectionGuard;
}

/** How long a shutdown waits, after the grace period, for cancelled calls' handlers to clean up. */
const CLEAN_UP_MS = 10_000;

export async function startServer(
  services: ServiceRegistration[],
  address: string,
  log: Logger,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const server = new grpc.Server(CHANNEL_OPTIONS);
  const health = new HealthImplementation({ '': 'SERVING' });
  const calls: ServerCalls = { live: new Set(), draining: new AbortController(), log };
  // Outermost first: metrics see every call's end; logging and metrics see the status error mapping made of what
  // the handler or a later interceptor (authentication, authorization, audit) threw.
  const interceptors = [metrics, logging(log), errorMapping, ...(options.interceptors ?? [])];
  for (const s of services) {
    server.addService(withEncodedResponses(s.definition), grpcHandlers(s, interceptors, calls));
    health.setStatus(s.name, 'SERVING');
  }
  health.addToServer(server);
  const dependencies = monitorDependencies(health, services.map((s) => ({ name: s.name, dependencies: s.dependencies ?? [] })), log, options.health);
  // Reflection lists only what this server serves (each Kiln server has one service plus health).
  addLazyReflection(server, [...services.map((s) => s.name), 'grpc.health.v1.Health'], options.guardReflection);

  const credentials = serverCredentials(options.tls);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, credentials.credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  await credentials.loaded();
  const sessions = watchSessions(server);
  const host = address.slice(0, address.lastIndexOf(':'));
  const bound = `${host}:${port}`;
  const transport = !options.tls ? 'plaintext' : options.tls.clientCa ? 'mtls' : 'tls';
  log.info({ address: bound, services: services.map((s) => s.name), transport }, 'grpc server listening');

  return {
    server,
    address: bound,
    port,
    async shutdown(graceMs = 10_000) {
      calls.draining.abort();
      dependencies.stop();
      for (const s of services) health.setStatus(s.name, 'NOT_SERVING');
      health.setStatus('', 'NOT_SERVING');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn({ graceMs }, 'grace period over: cancelling remaining calls');
          for (const context of calls.live) context.cancel(serverStopping());
          server.forceShutdown();
          // grpc-js's forceShutdown destroys only the sessions it tracks for channelz, which CHANNEL_OPTIONS turns
          // off: without this, calls still running now were never cancelled and went on until the process exited.
          for (const session of sessions) session.destroy();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      // Calls cancelled at the end of the grace period have handlers still cleaning up (an upload removing what it
      // stored): the caller closes the database and the blob store only after them.
      if (calls.live.size) {
        let timer: NodeJS.Timeout | undefined;
        const waited = await Promise.race([
          new Promise<boolean>((resolve) => (calls.idle = () => resolve(true))),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CLEAN_UP_MS))),
        ]);
        clearTimeout(timer);
        if (!waited) log.warn({ calls: calls.live.size, waitedMs: CLEAN_UP_MS }, 'cancelled calls still cleaning up; stopping anyway');
      }
    },
  };
}

/** What every call of one server shares. */
interface ServerCalls {
  /** Contexts of the calls running (their handlers and interceptors not settled yet, cleaning up included), for a
   * shutdown to cancel at the end of its grace period and then wait for. */
  live: Set<CallContext>;
  /** Called when the last running call settles (set by a shutdown waiting for them). */
  idle?: () => void;
  /** Aborted when the shutdown starts (HandlerContext.shutdown). */
  draining: AbortController;
  log: Logger;
}

/** A call on its way through the chain, with what the last step (the handler) needs. */
interface PendingCall extends ServerCall {
  readonly context: CallContext;
  /** Runs the handler and sends what it returns. */
  readonly run: () => Promise<void>;
}

const runHandler: Next = (call) => (call as PendingCall).run();

/** grpc-js handlers for a service implementation: each call gets its context and goes through the interceptors;
 * the status they end with goes to the client (a stream's through emit('error'): grpc-js sends that as the status,
 * where destroy() never does). */
function grpcHandlers(registration: ServiceRegistration, interceptors: Interceptor[], calls: ServerCalls): grpc.UntypedServiceImplementation {
  const invoke = chain(interceptors, runHandler);
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(registration.implementation)) {
    const definition = registration.definition[method];
    if (!definition) throw new Error(`${registration.name} has no method ${method}`);
    const type = rpcType(definition);
    const rpc = `${registration.name}/${method}`;
    // Inside the chain, so that a refused request is logged, counted and mapped like a handler's error.
    const check: RequestCheck | undefined = requestCheck(definition);
    const handle = handler as unknown as (input: unknown, context: CallContext) => unknown;
    const start = (call: GrpcCall, request: unknown, run: (context: CallContext) => Promise<void>, fail: (status: unknown) => void, messageChecks?: RequestCheck[]) => {
      const context = new CallContext(rpc, call, calls.draining.signal, calls.log, request);
      calls.live.add(context);
      // grpc-js also says 'cancelled' when a client resets a call it already has the answer to: a reason (an error,
      // with its stack) is made only for a call still running.
      (call as NodeJS.EventEmitter).once('cancelled', () => !context.settled && context.cancel(clientCancelled()));
      // Interceptors' checks run in the interceptors' order (audit sees a message before authorization refuses it),
      // all before the built-in int64 check.
      let interceptorChecks = 0;
      const onMessage = (c: RequestCheck) => {
        if (!messageChecks) throw new Error(`${rpc}: only a client stream's messages can be checked as read`);
        messageChecks.splice(interceptorChecks++, 0, c);
      };
      const pending: PendingCall = { service: registration.name, method, type, context, request, onMessage, run: () => run(context) };
      const settle = () => {
        context.settle();
        calls.live.delete(context);
        if (calls.live.size === 0) calls.idle?.();
      };
      invoke(pending).then(settle, (status) => {
        fail(status);
        settle();
      });
    };
    if (type === 'unary') {
      handlers[method] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
        start(call, call.request, async (context) => {
          check?.(call.request);
          callback(null, await handle(call.request, context));
        }, (status) => callback(status as grpc.ServiceError))) as grpc.UntypedHandleCall;
    } else if (type === 'client_stream') {
      handlers[method] = ((call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        // Now, before the interceptors run: the messages that came with the call's headers are pushed right after.
        limitReadAhead(call, CLIENT_STREAM_READ_AHEAD_MESSAGES);
        // The call itself is the requests' async iterable (a Readable in object mode), each message checked as read:
        // by interceptors' checks (authorization), then the int64 check.
        const checks: RequestCheck[] = check ? [check] : [];
        start(call, undefined, async (context) => callback(null, await handle(checks.length ? checkEach(call, checks) : call, context)),
          (status) => callback(status as grpc.ServiceError), checks);
      }) as grpc.UntypedHandleCall;
    } else if (type === 'server_stream') {
      handlers[method] = ((call: grpc.ServerWritableStream<unknown, unknown>) => {
        const fail = (status: unknown) => call.emit('error', status);
        start(call, call.request, async (context) => {
          check?.(call.request);
          // A client that goes away gets its call destroyed, which then never drains nor errors: that too is the end.
          call.once('close', () => {
            if (!call.writableFinished) context.cancel(clientCancelled());
          });
          return sendStream(call, handle(call.request, context) as AsyncIterable<unknown>, context.signal);
        }, fail);
      }) as grpc.UntypedHandleCall;
    } else {
      throw new Error(`${rpc}: bidirectional streams are not supported`);
    }
  }
  return handlers;
}

/** A client stream's messages, each checked before the handler reads it. */
async function* checkEach(messages: AsyncIterable<unknown>, checks: readonly RequestCheck[]): AsyncGenerator<unknown> {
  for await (const message of messages) {
    for (const check of checks) check(message);
    yield message;
  }
}

/** Messages grpc-js may hold for a client stream (an upload) before its handler reads them, each up to the client's
 * chunk size. */
const CLIENT_STREAM_READ_AHEAD_MESSAGES = 2;

/**
 * grpc-js reads a call's messages from HTTP/2 into an object-mode Readable whose high-water mark (16, with no option
 * to change it) is then the read-ahead: 16 MiB per upload at 1 MiB chunks, held long enough to outlive
 * young-generation collections. Two are enough to keep the pipe full; beyond them the HTTP/2 window holds the client
 * back. It is set as the call arrives: set once the interceptors have run, the first 16 messages are already in,
 * and a registry's peak memory during uploads shows it (bench/README.md, upload). Node keeps the mark in
 * _readableState (stable for years, though not public); without it this does nothing.
 */
function limitReadAhead(call: grpc.ServerReadableStream<unknown, unknown>, messages: number): void {
  const state = (call as unknown as { _readableState?: { highWaterMark?: unknown } })._readableState;
  if (state && typeof state.highWaterMark === 'number') state.highWaterMark = messages;
}

type GrpcCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

/** Writes a server stream's responses with back-pressure, then ends it. Once the call is cancelled nothing more is
 * read from the handler: leaving the loop returns its generator, whose finally blocks let go of what it holds. */
async function sendStream(call: grpc.ServerWritableStream<unknown, unknown>, responses: AsyncIterable<unknown>, signal: AbortSignal): Promise<void> {
  for await (const response of responses) {
    if (signal.aborted) return;
    if (!call.write(response) && !(await drained(call, signal))) return;
  }
  if (!signal.aborted) call.end();
}

/** Whether the call drained (false: it was cancelled first). */
async function drained(call: grpc.ServerWritableStream<unknown, unknown>, signal: AbortSignal): Promise<boolean> {
  try {
    await once(call, 'drain', { signal });
    return true;
  } catch (err) {
    if (signal.aborted) return false;
    throw err;
  }
}

/** Per-stream HTTP/2 receive window for uploads (and the connection's, 4x that). */
const UPLOAD_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * Node's HTTP/2 server advertises a 64 KiB stream window, so a client-streamed upload stalls for a window update
 * every 64 KiB, which caps it well below loopback speed (bench/README.md, "Measurements behind code choices").
 * grpc-js offers no server option for it (only the client side has grpc-node.flow_control_window), so each new
 * session gets larger windows as it opens. The open sessions are also kept, for a shutdown to cancel (see
 * shutdown). This reaches into grpc-js's http2 servers; if a grpc-js upgrade moves them, uploads only get slower and
 * forceShutdown is left alone.
 */
function watchSessions(server: grpc.Server): Set<import('node:http2').ServerHttp2Session> {
  const open = new Set<import('node:http2').ServerHttp2Session>();
  const http2Servers = (server as unknown as { http2Servers?: Map<import('node:http2').Http2Server, unknown> }).http2Servers;
  if (!(http2Servers instanceof Map)) return open;
  for (const http2Server of http2Servers.keys()) {
    http2Server.on('session', (session: import('node:http2').ServerHttp2Session) => {
      open.add(session);
      session.once('close', () => open.delete(session));
      try {
        session.settings({ initialWindowSize: UPLOAD_WINDOW_BYTES });
        session.setLocalWindowSize(4 * UPLOAD_WINDOW_BYTES);
      } catch {
        // A session closing as it opens: nothing to tune.
      }
    });
  }
  return open;
}

function rpcType(method: grpc.MethodDefinition<unknown, unknown>): RpcType {
  if (method.requestStream) return method.responseStream ? 'bidi_stream' : 'client_stream';
  return method.responseStream ? 'server_stream' : 'unary';
}
