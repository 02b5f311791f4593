// Logs each failed call once ('call failed', with the model and version it was about): INTERNAL as an error with
// the stack of what was thrown (a bug to find), the rest (a caller's mistake, a missing model) as info.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { toGrpcError } from '../index';
import type { Interceptor } from './interceptor';

export function logging(log: Logger): Interceptor {
  return (next) => async (call) => {
    try {
      await next(call);
    } catch (err) {
      const status = toGrpcError(err);
      const internal = status.code === grpc.status.INTERNAL;
      const { rpc, logFields } = call.context;
      const fields = { rpc, ...logFields, code: grpc.status[status.code ?? 2] };
      // An INTERNAL made by the error mapping inside keeps what was thrown as its cause.
      const thrown = (err as { cause?: unknown }).cause ?? err;
      if (internal) log.error({ ...fields, err: thrown instanceof Error ? thrown : status.message }, 'call failed');
      else log.info({ ...fields, err: status.message }, 'call failed');
      throw err;
    }
  };
}
