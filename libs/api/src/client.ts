// Typed promise clients over grpc-js's generated ones, written once for every Kiln service: a unary call returns a
// promise, a server stream is an async iterable, a client stream takes an (async) iterable of requests and returns a
// promise; each takes an AbortSignal, a deadline and metadata. Errors are grpc-js's ServiceErrors, as they came.
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { RegistryClient, RegistryDefinition, RegistryHandlers } from '../generated/kiln/v1/Registry';
import type { BuilderClient, BuilderDefinition, BuilderHandlers } from '../generated/kiln/v1/Builder';
import type { InferenceClient, InferenceDefinition, InferenceHandlers } from '../generated/kiln/v1/Inference';
import type { CallKind, DeclaredKeys } from './handlers';

export interface CallOptions {
  /** Aborting it cancels the call: a pending promise rejects, an iteration throws, with status CANCELLED. */
  signal?: AbortSignal;
  /** When the call fails with DEADLINE_EXCEEDED if not done (a Date, or milliseconds since the epoch). */
  deadline?: Date | number;
  metadata?: grpc.Metadata;
}

// `any`: a serializer takes its message type, so no other type argument would match every definition.
type ClientMethod<Kind, D> = D extends MethodDefinition<infer Req, any, any, infer Res>
  ? Kind extends 'unary' ? (request: Req, options?: CallOptions) => Promise<Res>
    : Kind extends 'server_stream' ? (request: Req, options?: CallOptions) => AsyncIterable<Res>
      : Kind extends 'client_stream' ? (requests: AsyncIterable<Req> | Iterable<Req>, options?: CallOptions) => Promise<Res>
        : never
  : never;

/** A promise client for the service whose generated handler and definition types are H and D. */
export type PromiseClient<H, D> = {
  readonly [K in DeclaredKeys<H> & keyof D]: ClientMethod<CallKind<H[K]>, D[K]>;
} & {
  /** The grpc-js client underneath (waitForReady, getChannel). */
  readonly raw: grpc.Client;
  close(): void;
};

export type RegistryPromiseClient = PromiseClient<RegistryHandlers, RegistryDefinition>;
export type BuilderPromiseClient = PromiseClient<BuilderHandlers, BuilderDefinition>;
export type InferencePromiseClient = PromiseClient<InferenceHandlers, InferenceDefinition>;

const made = new WeakMap<grpc.Client, unknown>();

/** The promise client over a generated grpc-js client (one per client: it is made once and kept). */
export function promiseClient(raw: RegistryClient): RegistryPromiseClient;
export function promiseClient(raw: BuilderClient): BuilderPromiseClient;
export function promiseClient(raw: InferenceClient): InferencePromiseClient;
export function promiseClient(raw: grpc.Client): unknown {
  let client = made.get(raw);
  if (!client) made.set(raw, (client = makePromiseClient(raw)));
  return client;
}

type AnyMethod = grpc.MethodDefinition<unknown, unknown>;

function makePromiseClient(raw: grpc.Client): unknown {
  const service = (raw.constructor as unknown as { service?: grpc.ServiceDefinition }).service;
  if (!service) throw new TypeError('promiseClient needs a client made from a generated service constructor');
  const client: Record<string, unknown> = { raw, close: () => raw.close() };
  for (const [name, method] of Object.entries(service) as Array<[string, AnyMethod]>) {
    if (method.requestStream && method.responseStream) continue; // no Kiln method is bidirectional
    client[name] = method.requestStream
      ? (requests: AsyncIterable<unknown> | Iterable<unknown>, options?: CallOptions) => clientStream(raw, method, requests, options)
      : method.responseStream
        ? (request: unknown, options?: CallOptions) => serverStream(raw, method, request, options)
        : (request: unknown, options?: CallOptions) => unary(raw, method, request, options);
  }
  return client;
}

function grpcOptions(options: CallOptions | undefined): grpc.CallOptions {
  return options?.deadline === undefined ? {} : { deadline: options.deadline };
}

/** Cancels `call` when `signal` aborts (at once if it already has); returns the listener's removal. */
function cancelOnAbort(call: { cancel(): void }, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => {};
  const cancel = () => call.cancel();
  if (signal.aborted) {
    // After the call has started: grpc-js then ends it CANCELLED, as for a later abort.
    queueMicrotask(cancel);
    return () => {};
  }
  signal.addEventListener('abort', cancel, { once: true });
  return () => signal.removeEventListener('abort', cancel);
}

function unary(raw: grpc.Client, method: AnyMethod, request: unknown, options?: CallOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let release = () => {};
    const call = raw.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request,
      options?.metadata ?? new grpc.Metadata(), grpcOptions(options), (err, response) => {
        release();
        if (err) reject(err);
        else resolve(response);
      });
    release = cancelOnAbort(call, options?.signal);
  });
}

async function* serverStream(raw: grpc.Client, method: AnyMethod, request: unknown, options?: CallOptions): AsyncGenerator<unknown> {
  const call = raw.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, request,
    options?.metadata ?? new grpc.Metadata(), grpcOptions(options));
  // The iteration sees the call's error; this keeps one that comes after the caller stopped iterating (our own
  // cancel below) from being an unhandled 'error' event.
  call.on('error', () => {});
  const release = cancelOnAbort(call, options?.signal);
  let ended = false;
  try {
    for await (const message of call) yield message;
    ended = true;
  } finally {
    release();
    // A caller that stops iterating early (break, an exception) no longer wants the rest.
    if (!ended) call.cancel();
  }
}

function clientStream(
  raw: grpc.Client,
  method: AnyMethod,
  requests: AsyncIterable<unknown> | Iterable<unknown>,
  options?: CallOptions,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // Aborted once the call has its status: the writer stops waiting for a drain that will never come.
    const done = new AbortController();
    let release = () => {};
    const call = raw.makeClientStreamRequest(method.path, method.requestSerialize, method.responseDeserialize,
      options?.metadata ?? new grpc.Metadata(), grpcOptions(options), (err, response) => {
        done.abort();
        release();
        if (err) reject(err);
        else resolve(response);
      });
    release = cancelOnAbort(call, options?.signal);
    (async () => {
      for await (const request of requests) {
        if (done.signal.aborted) return;
        if (!call.write(request)) await once(call, 'drain', { signal: done.signal });
      }
      call.end();
    })().catch((err) => {
      if (done.signal.aborted) return; // the call ended first: its status is the answer
      // The requests failed (a file that could not be read): the call is cancelled and the caller gets why.
      call.cancel();
      reject(err);
    });
  });
}
