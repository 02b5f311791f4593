// The shape of a Kiln service implementation: a unary handler returns its response, a client-streaming one reads an
// async iterable of requests and returns its response, a server-streaming one is an async generator of responses.
// Each gets a HandlerContext; the method and message types come from the generated types in libs/api/generated.
import type * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { HandlerContext } from './context';
import type { RegistryDefinition, RegistryHandlers } from '../generated/kiln/v1/Registry';
import type { BuilderDefinition, BuilderHandlers } from '../generated/kiln/v1/Builder';
import type { InferenceDefinition, InferenceHandlers } from '../generated/kiln/v1/Inference';

export type UnaryHandler<Req, Res> = (request: Req, context: HandlerContext) => Res | Promise<Res>;
export type ClientStreamHandler<Req, Res> = (requests: AsyncIterable<Req>, context: HandlerContext) => Promise<Res>;
export type ServerStreamHandler<Req, Res> = (request: Req, context: HandlerContext) => AsyncIterable<Res>;

/** The names a generated interface declares (its index signature left out). */
export type DeclaredKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] };

/** What a generated grpc-js handler type says about the method's streams, read from the call object it is given. */
export type CallKind<H> = H extends (call: infer C, ...rest: never[]) => unknown
  ? C extends grpc.ServerDuplexStream<unknown, unknown> ? 'bidi_stream'
    : C extends grpc.ServerReadableStream<unknown, unknown> ? 'client_stream'
      : C extends grpc.ServerWritableStream<unknown, unknown> ? 'server_stream'
        : 'unary'
  : never;

// `any`: a serializer takes its message type, so no other type argument would match every definition.
/** A handler gets decoded requests (the __Output types, defaults filled in) and returns the input types. */
type HandlerOf<Kind, D> = D extends MethodDefinition<any, infer Res, infer Req, any>
  ? Kind extends 'unary' ? UnaryHandler<Req, Res>
    : Kind extends 'client_stream' ? ClientStreamHandler<Req, Res>
      : Kind extends 'server_stream' ? ServerStreamHandler<Req, Res>
        : never
  : never;

/** The implementation of the service whose generated handler and definition types are H and D. */
export type ServiceImplementation<H, D> = { [K in DeclaredKeys<H> & keyof D]: HandlerOf<CallKind<H[K]>, D[K]> };

export type RegistryImplementation = ServiceImplementation<RegistryHandlers, RegistryDefinition>;
export type BuilderImplementation = ServiceImplementation<BuilderHandlers, BuilderDefinition>;
export type InferenceImplementation = ServiceImplementation<InferenceHandlers, InferenceDefinition>;

/** Any service's implementation, as startServer takes it (its definition says each method's kind). */
export type AnyImplementation = Record<string, (input: never, context: HandlerContext) => unknown>;
