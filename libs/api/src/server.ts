// Starting a Kiln gRPC server: the service handlers plus grpc.health.v1 and server reflection on every server, and a
// graceful shutdown that drains in-flight calls.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { CHANNEL_OPTIONS, toGrpcError } from './index';
import { addLazyReflection } from './reflection';
import { withEncodedResponses } from './encoded';
import { rpcHandled, rpcSeconds, rpcStarted } from './metrics';

export interface ServiceRegistration {
  /** Fully qualified service name, e.g. kiln.v1.Registry (the health check key). */
  name: string;
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
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

/** How long a shutdown waits, after the grace period, for cancelled calls' handlers to clean up. */
const CLEAN_UP_MS = 10_000;

export async function startServer(
  services: ServiceRegistration[],
  address: string,
  log: Logger,
): Promise<RunningServer> {
  const server = new grpc.Server(CHANNEL_OPTIONS);
  const health = new HealthImplementation({ '': 'SERVING' });
  const handling = new Set<Promise<void>>();
  for (const s of services) {
    server.addService(withEncodedResponses(s.definition), wrapHandlers(s.implementation, s.name, log, s.definition, handling));
    health.setStatus(s.name, 'SERVING');
  }
  health.addToServer(server);
  // Reflection lists only what this server serves (each Kiln server has one service plus health).
  addLazyReflection(server, [...services.map((s) => s.name), 'grpc.health.v1.Health']);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const sessions = watchSessions(server);
  const host = address.slice(0, address.lastIndexOf(':'));
  const bound = `${host}:${port}`;
  log.info({ address: bound, services: services.map((s) => s.name) }, 'grpc server listening');

  return {
    server,
    address: bound,
    port,
    async shutdown(graceMs = 10_000) {
      for (const s of services) health.setStatus(s.name, 'NOT_SERVING');
      health.setStatus('', 'NOT_SERVING');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn({ graceMs }, 'grace period over: cancelling remaining calls');
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
      if (handling.size) {
        let timer: NodeJS.Timeout | undefined;
        const waited = await Promise.race([
          Promise.all(handling).then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CLEAN_UP_MS))),
        ]);
        clearTimeout(timer);
        if (!waited) log.warn({ calls: handling.size, waitedMs: CLEAN_UP_MS }, 'cancelled calls still cleaning up; stopping anyway');
      }
    },
  };
}

/** Log fields a handler learned while serving a call (see addCallLogFields). */
const callLogFields = new WeakMap<object, Record<string, unknown>>();

/**
 * Adds fields (the model name, the version) to the lines logged about a call, such as its 'call failed' line. A
 * unary or server-streaming call's request gives them already; a client stream's handler calls this once it has
 * read its header.
 */
export function addCallLogFields(call: object, fields: Record<string, unknown>): void {
  callLogFields.set(call, { ...callLogFields.get(call), ...fields });
}

/** The model name and version a request names, for its log lines (Kiln requests call them model and version). */
function requestLogFields(request: unknown): Record<string, unknown> {
  if (typeof request !== 'object' || request === null) return {};
  const { model, version } = request as { model?: unknown; version?: unknown };
  return {
    ...(typeof model === 'string' && model ? { model } : {}),
    ...(typeof version === 'number' && version > 0 ? { version } : {}),
  };
}

/** Every handler's thrown or rejected error becomes a gRPC status with our code and message, and is logged once.
 * A streaming call gets it through emit('error'): grpc-js sends that as the status, while destroy() never does. */
function wrapHandlers(
  impl: grpc.UntypedServiceImplementation,
  serviceName: string,
  log: Logger,
  definition: grpc.ServiceDefinition,
  handling: Set<Promise<void>>,
): grpc.UntypedServiceImplementation {
  const wrapped: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(impl)) {
    const fn = handler as (...args: unknown[]) => unknown;
    const labels = { grpc_service: serviceName, grpc_method: method, grpc_type: rpcType(definition[method]) };
    wrapped[method] = ((call: unknown, rawCallback?: (err: unknown, value?: unknown) => void) => {
      // Metrics: one started, then one handled with the status code the call ends with (callback, stream end,
      // stream error or cancellation: whichever comes first).
      rpcStarted.inc(labels);
      const endTimer = rpcSeconds.startTimer(labels);
      let ended = false;
      const finishCall = (code: number) => {
        if (ended) return;
        ended = true;
        endTimer();
        rpcHandled.inc({ ...labels, grpc_code: grpc.status[code] ?? String(code) });
      };
      const emitter = call as NodeJS.EventEmitter;
      emitter.once('cancelled', () => finishCall(grpc.status.CANCELLED));
      let streamCode: number = grpc.status.OK;
      const callback = rawCallback && ((err: unknown, value?: unknown) => {
        finishCall(err ? toGrpcError(err).code ?? grpc.status.UNKNOWN : grpc.status.OK);
        rawCallback(err, value);
      });
      if (!rawCallback) {
        emitter.on('error', (err: { code?: number }) => { streamCode = err?.code ?? grpc.status.UNKNOWN; });
        emitter.once('finish', () => finishCall(streamCode));
      }
      const report = (err: unknown) => {
        const status = toGrpcError(err);
        const level = status.code === grpc.status.INTERNAL ? 'error' : 'info';
        const fields = { ...requestLogFields((call as { request?: unknown }).request), ...callLogFields.get(emitter) };
        log[level]({ rpc: `${serviceName}/${method}`, ...fields, code: grpc.status[status.code ?? 2], err: status.message },
          'call failed');
        return status;
      };
      try {
        const result = fn(call, callback) as Promise<unknown> | undefined;
        if (result && typeof result.then === 'function') {
          // Tracked until the handler has settled, cleaning up included, for shutdown to wait on.
          const settled: Promise<void> = result.then(() => {}, () => {}).finally(() => handling.delete(settled));
          handling.add(settled);
          result.catch((err) => {
            const status = report(err);
            if (callback) callback(status);
            else (call as grpc.ServerWritableStream<unknown, unknown>).emit('error', status);
          });
        }
      } catch (err) {
        const status = report(err);
        if (callback) callback(status);
        else (call as grpc.ServerWritableStream<unknown, unknown>).emit('error', status);
      }
    }) as grpc.UntypedHandleCall;
  }
  return wrapped;
}

/** Per-stream HTTP/2 receive window for uploads (and the connection's, 4x that). */
const UPLOAD_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * Node's HTTP/2 server advertises a 64 KiB stream window, so a client-streamed upload stalls for a window update
 * every 64 KiB and tops out near 100 MiB/s even on loopback. grpc-js offers no server option for it (only the
 * client side has grpc-node.flow_control_window), so each new session gets larger windows as it opens. The open
 * sessions are also kept, for a shutdown to cancel (see shutdown). This reaches into grpc-js's http2 servers; if a
 * grpc-js upgrade moves them, uploads only get slower and forceShutdown is left alone.
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

function rpcType(method: grpc.MethodDefinition<unknown, unknown> | undefined): string {
  if (!method) return 'unary';
  if (method.requestStream) return method.responseStream ? 'bidi_stream' : 'client_stream';
  return method.responseStream ? 'server_stream' : 'unary';
}
