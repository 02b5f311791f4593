// Lets a call through only if its caller holds what the service's policy table says the RPC needs (auth/policy.ts):
// the request's namespace is read before the handler runs, a client stream's from its first message as the handler
// reads it, so no handler checks rights itself.
import { authorize, requireRole, ruleFor, type Policy } from '../auth/policy';
import type { Interceptor } from './interceptor';

export function authorization(policy: Policy): Interceptor {
  return (next) => (call) => {
    const { rpc } = call.context;
    const rule = ruleFor(policy, rpc);
    call.context.setRoleCheck(requireRole);
    if (call.type === 'client_stream') {
      let first = true;
      call.onMessage((message) => {
        if (!first) return;
        first = false;
        authorize(rule, rpc, call.context.caller, message);
      });
    } else {
      authorize(rule, rpc, call.context.caller, call.request);
    }
    return next(call);
  };
}
