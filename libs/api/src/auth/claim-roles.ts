// Which roles an identity provider's token gives: KILN_OIDC_ROLES parsed into rules (claim value → role in a
// namespace), and the bindings a token's claims match. Plain functions over plain data.
import { z } from 'zod';
import { ROLES, type RoleBinding } from '../context';

/** One rule: a token whose `claim` is `value` (or an array holding it) has `role` in `namespace` (`*`: every one). */
export interface ClaimRoleRule extends RoleBinding {
  readonly claim: string;
  readonly value: string;
}

/** `claim:value=role@namespace`: the claim runs to the first ':' (past an `https://` that starts a namespaced claim
 * name), the binding follows the last '=', so values may hold both (GitHub's `repo:org/name:ref:...` subjects). */
const RULE_SYNTAX = /^((?:https?:\/\/)?[^:]+):(.+)=([^=@]*)@([^=@]*)$/;

const RULE = z
  .string()
  .trim()
  .regex(RULE_SYNTAX, 'not of the form claim:value=role@namespace')
  .transform((text) => {
    const [, claim, value, role, namespace] = RULE_SYNTAX.exec(text)!;
    return { claim, value, role, namespace };
  })
  .pipe(z.object({
    claim: z.string().regex(/^\S+$/, 'a claim name has no spaces'),
    value: z.string(),
    role: z.enum(ROLES, { error: (issue) => `role ${JSON.stringify(issue.input)} is not one of ${ROLES.join(', ')}` }),
    // One level of namespace (`team/name` models): no slash; the registry owns the finer name rules.
    namespace: z.string().regex(/^(\*|[^\s/*]+)$/, 'a namespace is "*" or one name without "/" or spaces'),
  }));

const RULES = z.string().transform((text) => text.split(',').filter((entry) => entry.trim() !== '')).pipe(z.array(RULE));

/**
 * The rules KILN_OIDC_ROLES writes, comma-separated (`groups:ml-platform=admin@*,groups:team-fraud=writer@fraud`);
 * empty is no rule. Throws one error naming every bad entry, for start-up to stop on.
 */
export function parseClaimRoles(text: string, setting = 'KILN_OIDC_ROLES'): ClaimRoleRule[] {
  const parsed = RULES.safeParse(text);
  if (parsed.success) return parsed.data;
  const entries = text.split(',').filter((entry) => entry.trim() !== '');
  const problems = parsed.error.issues.map((issue) => {
    const index = Number(issue.path[0]);
    return `entry ${index + 1} (${JSON.stringify(entries[index]?.trim())}): ${issue.message}`;
  });
  throw new Error(`invalid configuration: ${setting}: ${problems.join('; ')}`);
}

/** The bindings a token's claims match, each once. A claim counts as a string or an array of strings; any other
 * value (a number, an object) matches nothing. */
export function bindingsFor(claims: Readonly<Record<string, unknown>>, rules: readonly ClaimRoleRule[]): RoleBinding[] {
  const bindings: RoleBinding[] = [];
  for (const rule of rules) {
    const claim = Object.hasOwn(claims, rule.claim) ? claims[rule.claim] : undefined;
    const matches = typeof claim === 'string' ? claim === rule.value : Array.isArray(claim) && claim.includes(rule.value);
    if (!matches || bindings.some((b) => b.role === rule.role && b.namespace === rule.namespace)) continue;
    bindings.push({ namespace: rule.namespace, role: rule.role });
  }
  return bindings;
}
