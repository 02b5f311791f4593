// Counts every call (grpc_server_started_total, grpc_server_handled_total by code, grpc_server_handling_seconds).
import * as grpc from '@grpc/grpc-js';
import { toGrpcError } from '../index';
import { rpcHandled, rpcSeconds, rpcStarted } from '../metrics';
import type { Interceptor, ServerCall } from './interceptor';

type Labels = { grpc_service: string; grpc_method: string; grpc_type: string };

/** An RPC's labels, and its handled counter's labels by code: made once, so a call allocates none. */
class RpcLabels {
  readonly labels: Labels;
  private readonly byCode = new Map<number, Labels & { grpc_code: string }>();

  constructor(call: ServerCall) {
    this.labels = { grpc_service: call.service, grpc_method: call.method, grpc_type: call.type };
  }

  handled(code: number): Labels & { grpc_code: string } {
    let handled = this.byCode.get(code);
    if (!handled) this.byCode.set(code, (handled = { ...this.labels, grpc_code: grpc.status[code] ?? String(code) }));
    return handled;
  }
}
const labelsByRpc = new Map<string, RpcLabels>();

function labelsOf(call: ServerCall): RpcLabels {
  let labels = labelsByRpc.get(call.context.rpc);
  if (!labels) labelsByRpc.set(call.context.rpc, (labels = new RpcLabels(call)));
  return labels;
}

/** One call started, then one handled with the code it ended with: its status, or CANCELLED (DEADLINE_EXCEEDED)
 * as soon as the client cancels (the deadline passes), whichever comes first. */
export const metrics: Interceptor = (next) => async (call) => {
  const labels = labelsOf(call);
  rpcStarted.inc(labels.labels);
  const endTimer = rpcSeconds.startTimer(labels.labels);
  let ended = false;
  const finish = (code: number) => {
    if (ended) return;
    ended = true;
    endTimer();
    rpcHandled.inc(labels.handled(code));
  };
  call.context.onCancel((reason) => finish(toGrpcError(reason).code ?? grpc.status.CANCELLED));
  try {
    await next(call);
    finish(grpc.status.OK);
  } catch (err) {
    finish(toGrpcError(err).code ?? grpc.status.UNKNOWN);
    throw err;
  }
};
