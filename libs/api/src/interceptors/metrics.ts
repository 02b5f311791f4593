// Counts every call (grpc_server_started_total, grpc_server_handled_total by code, grpc_server_handling_seconds).
import * as grpc from '@grpc/grpc-js';
import { toGrpcError } from '../index';
import { rpcHandled, rpcSeconds, rpcStarted } from '../metrics';
import type { Interceptor, ServerCall } from './interceptor';

type Labels = { grpc_service: string; grpc_method: string; grpc_type: string };
const labelsByRpc = new Map<string, Labels>();
/** The handled counter's labels of an RPC and a code, made once: a call allocates none. */
const handledLabelsByRpc = new Map<string, Map<number, Labels & { grpc_code: string }>>();

function handledLabels(rpc: string, labels: Labels, code: number): Labels & { grpc_code: string } {
  let byCode = handledLabelsByRpc.get(rpc);
  if (!byCode) handledLabelsByRpc.set(rpc, (byCode = new Map()));
  let handled = byCode.get(code);
  if (!handled) byCode.set(code, (handled = { ...labels, grpc_code: grpc.status[code] ?? String(code) }));
  return handled;
}

function labelsOf(call: ServerCall): Labels {
  let labels = labelsByRpc.get(call.context.rpc);
  if (!labels) {
    labels = { grpc_service: call.service, grpc_method: call.method, grpc_type: call.type };
    labelsByRpc.set(call.context.rpc, labels);
  }
  return labels;
}

/** One call started, then one handled with the code it ended with: its status, or CANCELLED (DEADLINE_EXCEEDED)
 * as soon as the client cancels (the deadline passes), whichever comes first. */
export const metrics: Interceptor = (next) => async (call) => {
  const labels = labelsOf(call);
  rpcStarted.inc(labels);
  const endTimer = rpcSeconds.startTimer(labels);
  let ended = false;
  const finish = (code: number) => {
    if (ended) return;
    ended = true;
    endTimer();
    rpcHandled.inc(handledLabels(call.context.rpc, labels, code));
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
