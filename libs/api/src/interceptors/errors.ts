// Turns what a handler (or a later interceptor) throws into a gRPC status: a KilnError keeps its code, message and
// location (see toGrpcError), a dependency's outage is UNAVAILABLE (@kiln/errors' unavailableReason), anything else
// is INTERNAL.
import { toGrpcError } from '../index';
import type { Interceptor } from './interceptor';

export const errorMapping: Interceptor = (next) => async (call) => {
  try {
    await next(call);
  } catch (err) {
    throw toGrpcError(err);
  }
};
