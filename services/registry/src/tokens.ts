// Kiln API tokens: their secrets (made, recognised, digested), the store they live in, the verifier that turns a
// bearer secret into a caller, and the bootstrap admin token. No SQL here: the store's Postgres side is
// store/postgres/tokens.ts.
import { createHash, randomBytes } from 'node:crypto';
import type { BearerVerifier, Caller, Role, RoleBinding } from '@kiln/api/context';
import { ROLES } from '@kiln/api/context';
import { EVERY_NAMESPACE } from '@kiln/api/auth/policy';
import { invalidArgument, unauthenticated } from '@kiln/errors';
import type { Logger } from '@kiln/log';
import { validateNamespace } from './names';
import type { NewAuditEvent } from './store';
import { startupAuditEvent } from './audit';

/** Every API token starts with this, so a verifier (and a secret scanner) recognises one. */
export const TOKEN_PREFIX = 'kiln_';

export interface TokenRecord {
  id: string;
  owner: string;
  bindings: RoleBinding[];
  createTime: Date;
  expireTime: Date | null;
  lastUseTime: Date | null;
  revokeTime: Date | null;
}

export interface NewToken {
  id: string;
  secretSha256: Buffer;
  owner: string;
  bindings: RoleBinding[];
  expireTime: Date | null;
}

export interface TokenStore {
  /** Inserts the token, with the call's audit record (in one transaction); false (and nothing changed)
   * when one with its digest exists, revoked or not. */
  insertToken(token: NewToken, audit: NewAuditEvent): Promise<boolean>;
  /** The token with this secret digest, revoked or expired ones included. */
  tokenByDigest(secretSha256: Buffer): Promise<TokenRecord | undefined>;
  listTokens(q: { pageSize: number; afterId?: string; showRevoked: boolean }): Promise<TokenRecord[]>;
  /** Marks the token revoked (once: a second revoke keeps the first time), with the call's audit record (in one
   * transaction); undefined (and nothing recorded) when there is none. */
  revokeToken(id: string, audit: NewAuditEvent): Promise<TokenRecord | undefined>;
  /** Records these tokens as used at these times. */
  touchTokens(uses: ReadonlyMap<string, Date>): Promise<void>;
}

/** A new secret: the prefix and 256 random bits, base64url. */
export function newSecret(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function newTokenId(): string {
  return `tok_${randomBytes(8).toString('hex')}`;
}

/** What the store keeps of a secret. SHA-256 suffices: the secret is 256 random bits (or an operator's at least 32
 * characters), so no dictionary reaches it, and one fast hash lets a lookup by digest find the token. */
export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Role bindings as a request gives them, checked: a role per namespace, a namespace at most once. */
export function validateBindings(bindings: ReadonlyArray<{ namespace: string; role: string }>, where: string): RoleBinding[] {
  if (!bindings.length) throw invalidArgument('give at least one role binding', where);
  const seen = new Set<string>();
  return bindings.map((b, i) => {
    const at = `${where}[${i}]`;
    // A namespace follows the rules of one side of `team/name`.
    if (b.namespace !== EVERY_NAMESPACE) validateNamespace(b.namespace, `${at}.namespace`);
    if (seen.has(b.namespace)) throw invalidArgument(`namespace ${b.namespace} is bound twice`, `${at}.namespace`);
    seen.add(b.namespace);
    const role = b.role.replace(/^ROLE_/, '').toLowerCase();
    if (!(ROLES as readonly string[]).includes(role)) throw invalidArgument(`unknown role ${b.role}`, `${at}.role`);
    return { namespace: b.namespace, role: role as Role };
  });
}

/** How often at most a token's last use is written: a write per call would cost more than the call. */
const LAST_USE_PRECISION_MS = 60_000;

/** Kiln API tokens as bearer tokens: a secret with the prefix is looked up by digest; revoked and expired ones are
 * UNAUTHENTICATED saying so. Last uses are kept in memory and written in one statement every few seconds. */
export class ApiTokenVerifier implements BearerVerifier {
  private readonly written = new Map<string, number>();
  private readonly unwritten = new Map<string, Date>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly store: TokenStore, private readonly log: Logger, flushMs = 5000) {
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  async verify(token: string, peer: string): Promise<Caller | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const record = await this.store.tokenByDigest(secretDigest(token));
    if (!record) throw unauthenticated('unknown token: no Kiln API token has this secret');
    if (record.revokeTime) throw unauthenticated(`revoked token: ${record.id} was revoked at ${record.revokeTime.toISOString()}`);
    const now = new Date();
    if (record.expireTime && record.expireTime <= now) throw unauthenticated(`expired token: ${record.id} expired at ${record.expireTime.toISOString()}`);
    this.used(record, now);
    return { kind: 'token', peer, tokenId: record.id, owner: record.owner, bindings: record.bindings };
  }

  private used(record: TokenRecord, now: Date): void {
    const last = this.written.get(record.id) ?? record.lastUseTime?.getTime() ?? 0;
    if (now.getTime() - last < LAST_USE_PRECISION_MS) return;
    this.written.set(record.id, now.getTime());
    this.unwritten.set(record.id, now);
  }

  /** Writes the last uses not written yet (a failure keeps nothing: the next use within a minute writes again). */
  async flush(): Promise<void> {
    if (!this.unwritten.size) return;
    const uses = new Map(this.unwritten);
    this.unwritten.clear();
    await this.store.touchTokens(uses).catch((err) => {
      for (const id of uses.keys()) this.written.delete(id);
      this.log.warn({ err }, 'could not record API tokens\' last use; trying again at their next use');
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/** Registers KILN_ADMIN_TOKEN as an admin token on every namespace, once: a restart, or another replica starting
 * at the same time, finds it there (by its digest) and leaves it, revoked or not. */
export async function bootstrapAdminToken(store: TokenStore, secret: string, log: Logger): Promise<void> {
  const id = newTokenId();
  const created = await store.insertToken({
    id,
    secretSha256: secretDigest(secret),
    owner: 'KILN_ADMIN_TOKEN',
    bindings: [{ namespace: EVERY_NAMESPACE, role: 'admin' }],
    expireTime: null,
  }, startupAuditEvent(`registered the admin token of KILN_ADMIN_TOKEN as ${id}`));
  if (created) log.info({ tokenId: id }, 'registered the admin token of KILN_ADMIN_TOKEN');
}
