// The kiln.v1.Registry token RPCs (CreateToken, ListTokens, RevokeToken): validation and conversion at the edge, the
// rules in tokens.ts. Who may call them is the policy table's (policy.ts: admin on every namespace).
import type { RegistryImplementation } from '@kiln/api/handlers';
import type { Token } from '@kiln/api/generated/kiln/v1/Token';
import type { Role } from '@kiln/api/generated/kiln/v1/Role';
import { fromTimestamp, toTimestamp } from '@kiln/api/timestamp';
import { invalidArgument, notFound } from '@kiln/errors';
import type { Logger } from '@kiln/log';
import { auditEvent } from './audit';
import { decodePageToken, encodePageToken, pageSize } from './convert';
import { newSecret, newTokenId, secretDigest, validateBindings, type TokenRecord, type TokenStore } from './tokens';

const MAX_OWNER_LENGTH = 256;

export function tokenToProto(t: TokenRecord): Token {
  return {
    id: t.id,
    owner: t.owner,
    bindings: t.bindings.map((b) => ({ namespace: b.namespace, role: `ROLE_${b.role.toUpperCase()}` as Role })),
    createTime: toTimestamp(t.createTime),
    expireTime: toTimestamp(t.expireTime),
    lastUseTime: toTimestamp(t.lastUseTime),
    revokeTime: toTimestamp(t.revokeTime),
  };
}

type TokenRpcs = Pick<RegistryImplementation, 'CreateToken' | 'ListTokens' | 'RevokeToken'>;

export function tokenHandlers(store: TokenStore, log: Logger): TokenRpcs {
  return {
    async CreateToken(request, context) {
      const where = 'CreateTokenRequest';
      const owner = request.owner.trim();
      if (!owner) throw invalidArgument('say who the token is for', `${where}.owner`);
      if (owner.length > MAX_OWNER_LENGTH) throw invalidArgument(`at most ${MAX_OWNER_LENGTH} characters`, `${where}.owner`);
      const bindings = validateBindings(request.bindings.map((b) => ({ namespace: b.namespace, role: String(b.role) })), `${where}.bindings`);
      const expireTime = fromTimestamp(request.expireTime);
      if (expireTime && expireTime.getTime() <= Date.now()) throw invalidArgument('the expiry time is in the past', `${where}.expire_time`);
      const secret = newSecret();
      const id = newTokenId();
      const roles = bindings.map((b) => `${b.role} on ${b.namespace}`).join(', ');
      const audit = auditEvent(context, { message: `created token ${id} for ${owner}: ${roles}${expireTime ? `, until ${expireTime.toISOString()}` : ''}` });
      await store.insertToken({ id, secretSha256: secretDigest(secret), owner, bindings, expireTime }, audit);
      log.info({ tokenId: id, owner, bindings, by: audit.caller }, 'API token created');
      return {
        token: tokenToProto({ id, owner, bindings, createTime: new Date(), expireTime, lastUseTime: null, revokeTime: null }),
        secret,
      };
    },

    async ListTokens(request) {
      const where = 'ListTokensRequest';
      const size = pageSize(request.pageSize, `${where}.page_size`);
      const after = decodePageToken<string>(request.pageToken, 'string', `${where}.page_token`);
      const tokens = await store.listTokens({ pageSize: size + 1, afterId: after, showRevoked: request.showRevoked });
      const page = tokens.slice(0, size);
      return {
        tokens: page.map(tokenToProto),
        nextPageToken: tokens.length > size ? encodePageToken(page[page.length - 1].id) : '',
      };
    },

    async RevokeToken(request, context) {
      const audit = auditEvent(context, { message: `revoked token ${request.id}` });
      const revoked = await store.revokeToken(request.id, audit);
      if (!revoked) throw notFound(`no API token ${request.id}`, 'RevokeTokenRequest.id');
      log.info({ tokenId: revoked.id, owner: revoked.owner, by: audit.caller }, 'API token revoked');
      return tokenToProto(revoked);
    },
  };
}
