// A build's log lines in Postgres, numbered across its attempts.
import type { LogLine } from '../index';
import type { Queryable } from './sql';

export async function appendLogLines(db: Queryable, model: string, version: number, lines: LogLine[]): Promise<void> {
  if (!lines.length) return;
  const params: unknown[] = [model, version];
  const values = lines.map((l, i) => {
    params.push(l.number, l.line);
    return `($1, $2, $${3 + i * 2}, $${4 + i * 2})`;
  });
  await db.query(`INSERT INTO build_logs (model, version, number, line) VALUES ${values.join(', ')} ON CONFLICT DO NOTHING`, params);
}

/** The highest build log line number stored for the version (0 when none): a retried build continues after it. */
export async function lastLogLine(db: Queryable, model: string, version: number): Promise<number> {
  const { rows } = await db.query('SELECT coalesce(max(number), 0) AS n FROM build_logs WHERE model = $1 AND version = $2', [model, version]);
  return Number(rows[0].n);
}

export async function logLinesAfter(db: Queryable, model: string, version: number, after: number): Promise<LogLine[]> {
  const { rows } = await db.query(
    'SELECT number, line FROM build_logs WHERE model = $1 AND version = $2 AND number > $3 ORDER BY number LIMIT 1000',
    [model, version, after],
  );
  return rows;
}
