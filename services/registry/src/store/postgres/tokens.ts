// The API tokens' tables (migration api_tokens): a token and its role bindings, looked up by the secret's digest.
import type { RoleBinding } from '@kiln/api/context';
import { asUnavailable } from '@kiln/errors';
import { withTransaction } from '@kiln/metadata';
import type pg from 'pg';
import type { NewToken, TokenRecord, TokenStore } from '../../tokens';
import type { NewAuditEvent } from '../index';
import { recordAuditEvent } from './audit';

interface TokenRow {
  id: string;
  owner: string;
  create_time: Date;
  expire_time: Date | null;
  last_use_time: Date | null;
  revoke_time: Date | null;
  bindings: RoleBinding[] | null;
}

const SELECT_TOKEN = `
  SELECT t.id, t.owner, t.create_time, t.expire_time, t.last_use_time, t.revoke_time,
         (SELECT json_agg(json_build_object('namespace', b.namespace, 'role', b.role) ORDER BY b.namespace)
            FROM api_token_bindings b WHERE b.token_id = t.id) AS bindings
    FROM api_tokens t`;

function record(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    owner: row.owner,
    bindings: row.bindings ?? [],
    createTime: row.create_time,
    expireTime: row.expire_time,
    lastUseTime: row.last_use_time,
    revokeTime: row.revoke_time,
  };
}

const outage = (err: unknown) => {
  throw asUnavailable(err, 'the database (Postgres)');
};

export class PostgresTokenStore implements TokenStore {
  constructor(private readonly pool: pg.Pool) {}

  insertToken(token: NewToken, audit: NewAuditEvent): Promise<boolean> {
    return withTransaction(this.pool, async (tx) => {
      const inserted = await tx.query(
        'INSERT INTO api_tokens (id, secret_sha256, owner, expire_time) VALUES ($1, $2, $3, $4) ON CONFLICT (secret_sha256) DO NOTHING',
        [token.id, token.secretSha256, token.owner, token.expireTime],
      );
      if (!inserted.rowCount) return false;
      await tx.query(
        'INSERT INTO api_token_bindings (token_id, namespace, role) SELECT $1, * FROM unnest($2::text[], $3::text[])',
        [token.id, token.bindings.map((b) => b.namespace), token.bindings.map((b) => b.role)],
      );
      await recordAuditEvent(tx, audit);
      return true;
    }).catch(outage);
  }

  async tokenByDigest(secretSha256: Buffer): Promise<TokenRecord | undefined> {
    const { rows } = await this.pool.query<TokenRow>({ name: 'kiln_token_by_digest', text: `${SELECT_TOKEN} WHERE t.secret_sha256 = $1`, values: [secretSha256] }).catch(outage);
    return rows[0] && record(rows[0]);
  }

  async listTokens(q: { pageSize: number; afterId?: string; showRevoked: boolean }): Promise<TokenRecord[]> {
    const { rows } = await this.pool.query<TokenRow>(
      `${SELECT_TOKEN} WHERE ($1::text IS NULL OR t.id > $1) AND ($2 OR t.revoke_time IS NULL) ORDER BY t.id LIMIT $3`,
      [q.afterId ?? null, q.showRevoked, q.pageSize],
    ).catch(outage);
    return rows.map(record);
  }

  revokeToken(id: string, audit: NewAuditEvent): Promise<TokenRecord | undefined> {
    return withTransaction(this.pool, async (tx) => {
      await tx.query('UPDATE api_tokens SET revoke_time = now() WHERE id = $1 AND revoke_time IS NULL', [id]);
      const { rows } = await tx.query<TokenRow>(`${SELECT_TOKEN} WHERE t.id = $1`, [id]);
      if (!rows[0]) return undefined;
      await recordAuditEvent(tx, audit);
      return record(rows[0]);
    }).catch(outage);
  }

  async touchTokens(uses: ReadonlyMap<string, Date>): Promise<void> {
    await this.pool.query(
      `UPDATE api_tokens t SET last_use_time = u.at FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at)
        WHERE t.id = u.id AND (t.last_use_time IS NULL OR t.last_use_time < u.at)`,
      [[...uses.keys()], [...uses.values()]],
    ).catch(outage);
  }
}
