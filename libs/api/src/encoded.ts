// Responses serialized once and sent many times. A handler that answers the same message again and again (the
// registry's final versions) keeps it as bytes made once by encodeOnce(), and hands them to grpc-js with asMessage():
// startServer's serializers send those bytes as they are. Keeping bytes rather than the message's object tree also
// keeps the heap small (one object per message instead of dozens), which shortens the collector's pauses.
import type * as grpc from '@grpc/grpc-js';

const ENCODED = Symbol('kiln.api.encoded');

/** A message of type T serialized once. */
export interface Encoded<T> {
  readonly [ENCODED]: Buffer;
  /** Only for the type: which message the bytes are. */
  readonly __message?: T;
}

export function encodeOnce<T>(serialize: (value: T) => Buffer, value: T): Encoded<T> {
  return { [ENCODED]: serialize(value) };
}

/** The bytes of an encoded message. */
export function encodedBytes<T>(encoded: Encoded<T>): Buffer {
  return encoded[ENCODED];
}

/** An encoded message where grpc-js expects the message (a unary callback, a stream's write). Its fields cannot be
 * read: only a server started by startServer, whose serializers pass it through, may be given it. */
export function asMessage<T>(encoded: Encoded<T>): T {
  return encoded as unknown as T;
}

/** A service definition whose response serializers send encoded messages' bytes unchanged. */
export function withEncodedResponses(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const wrapped: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    const serialize = method.responseSerialize;
    wrapped[name] = {
      ...method,
      responseSerialize: (value: unknown) => (value as Partial<Encoded<unknown>> | null)?.[ENCODED] ?? serialize(value),
    };
  }
  return wrapped as grpc.ServiceDefinition;
}
