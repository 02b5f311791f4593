// Which failures say that a dependency (Postgres, S3, a remote disk) is down or too slow for now: the one list the
// blob stores, the registry's store and the gRPC edge consult, so that an outage reaches clients as UNAVAILABLE
// (retry later) and never as INTERNAL or as a bad request. Recognised by the errors' shape (codes, names, HTTP
// status), so that this module needs neither pg nor the AWS SDK.
import { KilnError } from './index';

/** Socket and DNS failures (Node's errno codes, undici's): the other end is not there or stopped answering. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH',
  'ENETDOWN', 'ENETRESET', 'EAI_AGAIN', 'ENOTFOUND', 'ESOCKETTIMEDOUT', 'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

/** Postgres SQLSTATEs of a server going away or not taking connections (class 08 is matched as a class). */
const PG_STATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, or in recovery)
  '53300', // too_many_connections
]);

/** What node-postgres says, with no code, when a connection broke or could not be had in time. */
const PG_MESSAGES = [
  /^Connection terminated/, // "... unexpectedly", "... due to connection timeout"
  /^timeout exceeded when trying to connect/, // the pool's connectionTimeoutMillis
  /^Query read timeout/,
  /is not queryable$/, // a client whose connection already failed or was closed
];

/** S3 error names (the SDK's, AWS's and MinIO's) that mean "busy or away, try again". */
const S3_NAMES = new Set([
  'SlowDown', 'ServiceUnavailable', 'InternalError', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError',
  'ThrottlingException', 'XMinioServerNotInitialized', 'XMinioStorageFull',
]);

interface ErrorShape {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/**
 * A short reason when `err` (or what caused it) says a dependency is unreachable, failing for now, or timing out;
 * undefined when it is anything else (a KilnError included: it already has its code).
 */
export function unavailableReason(err: unknown, depth = 0): string | undefined {
  if (typeof err !== 'object' || err === null || err instanceof KilnError || depth > 4) return undefined;
  const e = err as ErrorShape;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  if (code && NETWORK_CODES.has(code)) return message || code;
  if (code && (PG_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return `${message} (SQLSTATE ${code})`;
  if (!code && PG_MESSAGES.some((pattern) => pattern.test(message))) return message;
  if (typeof e.name === 'string' && S3_NAMES.has(e.name)) return message || e.name;
  const status = e.$metadata?.httpStatusCode;
  // 429: too many requests for now (S3-compatible servers that do not say SlowDown).
  if (typeof status === 'number' && (status >= 500 || status === 429)) return message || `HTTP ${status}`;
  // Node reports a failed connect to every address of a name as an AggregateError of each one's failure.
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const reason = unavailableReason(inner, depth + 1);
      if (reason) return message || reason;
    }
  }
  return e.cause === undefined ? undefined : unavailableReason(e.cause, depth + 1);
}

/** UNAVAILABLE naming the dependency when `err` is one of its outages (see unavailableReason), else `err` itself. */
export function asUnavailable(err: unknown, dependency: string): unknown {
  const reason = unavailableReason(err);
  if (reason === undefined) return err;
  return new KilnError('UNAVAILABLE', `${dependency} is unavailable (${reason}); try again later`, undefined, { cause: err });
}
