// What a call needs, as a service's policy table says it (RPC -> rule), and the one function that decides: roles are
// ordered (each holds the rights of those before it), and a binding on `*` holds in every namespace.
import { permissionDenied } from '@kiln/errors';
import { ROLES, type Caller, type Role, type RoleBinding } from '../context';

/** The namespace pattern that binds a role everywhere; a rule naming it needs the role on every namespace. */
export const EVERY_NAMESPACE = '*';

export type Rule =
  /** `role` in the namespace the request names (a client stream's: its first message). */
  | { readonly role: Role; readonly namespace: (request: any) => string }
  /** Kiln services only (the builder's and inference's RPCs): the registry calls them, nobody else. */
  | { readonly servicesOnly: true };

/** Every RPC of a service (`kiln.v1.Registry/GetModelVersion`) and its rule: an RPC without one is refused. */
export type Policy = Readonly<Record<string, Rule>>;

/** A Kiln service calling the registry (the builder and inference read versions): reader everywhere. */
const SERVICE_BINDINGS: readonly RoleBinding[] = [{ namespace: EVERY_NAMESPACE, role: 'reader' }];

function bindingsOf(caller: Caller): readonly RoleBinding[] {
  switch (caller.kind) {
    case 'token':
    case 'oidc':
      return caller.bindings;
    case 'service':
      return SERVICE_BINDINGS;
    default:
      return [];
  }
}

/** Whether `bindings` give `role` in `namespace` (`*`: in every namespace, which only a `*` binding gives). */
export function holdsRole(bindings: readonly RoleBinding[], role: Role, namespace: string): boolean {
  const needed = ROLES.indexOf(role);
  return bindings.some((b) => ROLES.indexOf(b.role) >= needed && (b.namespace === EVERY_NAMESPACE || b.namespace === namespace));
}

/** Who the caller is, for a message. */
export function describeCaller(caller: Caller): string {
  switch (caller.kind) {
    case 'token':
      return `token ${caller.tokenId} (owner ${caller.owner})`;
    case 'oidc':
      return `${caller.subject} (${caller.issuer})`;
    case 'service':
      return `service ${caller.service}`;
    default:
      return `an anonymous caller (${caller.peer})`;
  }
}

/** The rule of `rpc`; an RPC the table forgot is refused (PERMISSION_DENIED), never let through. */
export function ruleFor(policy: Policy, rpc: string): Rule {
  const rule = policy[rpc];
  if (!rule) throw permissionDenied(`${rpc} has no entry in the authorization policy: refused`);
  return rule;
}

/** Throws PERMISSION_DENIED, naming the role lacking and the namespace, unless `caller` may make the call. */
export function authorize(rule: Rule, rpc: string, caller: Caller, request: unknown): void {
  if ('servicesOnly' in rule) {
    if (caller.kind === 'service') return;
    throw permissionDenied(`${rpc} accepts only Kiln service identities (the registry's service token); ${describeCaller(caller)} is not one`);
  }
  requireRole(caller, rule.role, rule.namespace(request ?? {}), rpc);
}

/** Throws PERMISSION_DENIED, naming the role lacking and the namespace, unless `caller` holds `role` there; `what`
 * is what needs it (an RPC, or a right beyond the table's such as moving a protected alias). */
export function requireRole(caller: Caller, role: Role, namespace: string, what: string): void {
  if (holdsRole(bindingsOf(caller), role, namespace)) return;
  const where = namespace === EVERY_NAMESPACE ? 'on every namespace (*)' : `in namespace ${namespace}`;
  throw permissionDenied(`${describeCaller(caller)} lacks role ${role} ${where}, which ${what} needs`);
}
