// Logs each failed call once ('call failed', with the model and version it was about): INTERNAL as an error, the
// rest (a caller's mistake, a missing model) as info.
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
      const level = status.code === grpc.status.INTERNAL ? 'error' : 'info';
      const { rpc, logFields } = call.context;
      log[level]({ rpc, ...logFields, code: grpc.status[status.code ?? 2], err: status.message }, 'call failed');
      throw err;
    }
  };
}
