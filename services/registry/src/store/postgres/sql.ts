// What the Postgres store's modules share: the query interface of a pool or a transaction's client, and status lists
// from the lifecycle written into SQL.
import type pg from 'pg';
import { isStatus, type VersionStatus } from '../../lifecycle';

/** A pool, or the client of a transaction. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/**
 * `status IN ('A', 'B')` for statuses from the lifecycle. Written into the statement's text rather than passed as a
 * parameter: the planner then matches the partial indexes on status (a one-status list is an equality), and the
 * named statements keep one text.
 */
export function statusIn(statuses: readonly VersionStatus[], column = 'status'): string {
  if (!statuses.length || !statuses.every(isStatus)) throw new Error(`not a list of statuses: ${statuses.join(', ')}`);
  return `${column} IN (${statuses.map((s) => `'${s}'`).join(', ')})`;
}
