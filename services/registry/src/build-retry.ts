// Which failures of a build attempt another attempt can cure: the table the build queue consults before it retries
// a build, and the only place that decides it.
import { unavailableReason } from '@kiln/errors';

/** gRPC's status names, in the order of their codes (the builder's call ends with one of them). */
const NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED',
  'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

export type StatusName = (typeof NAMES)[number];

/**
 * Whether a build that failed with this status is worth another attempt. Retried: what was away, busy or
 * interrupted and may well be back (the builder, its Docker engine, the image registry). Failed at once: what the
 * same build does again every time (a builder bug, a bad manifest, a refused push), which retries would only keep
 * BUILDING for an hour.
 */
export const RETRY_BY_STATUS: Readonly<Record<StatusName, boolean>> = {
  UNAVAILABLE: true, // the builder, its engine or the image registry cannot be reached (or went away mid-build)
  RESOURCE_EXHAUSTED: true, // overloaded or out of space for now
  ABORTED: true, // a conflict with concurrent work: by gRPC's definition, retry at a higher level
  CANCELLED: true, // the attempt was stopped (the builder or this registry shutting down), not judged
  DEADLINE_EXCEEDED: true, // something the builder called timed out; the registry's own deadline is handled below
  OK: false, // a call that ended OK without an image: the builder broke its contract, and would again
  UNKNOWN: false,
  INTERNAL: false, // a builder bug fails the same way every time
  INVALID_ARGUMENT: false,
  NOT_FOUND: false,
  ALREADY_EXISTS: false,
  PERMISSION_DENIED: false,
  UNAUTHENTICATED: false,
  FAILED_PRECONDITION: false,
  OUT_OF_RANGE: false,
  UNIMPLEMENTED: false,
  DATA_LOSS: false,
};

export interface BuildFailure {
  status: StatusName;
  /** Whether the registry's own deadline on the build call had passed: an attempt that ran that long would again. */
  callDeadlinePassed: boolean;
}

/** Whether the build should be attempted again (while retries are left) rather than end FAILED now. */
export function isRetryable(failure: BuildFailure): boolean {
  if (failure.status === 'DEADLINE_EXCEEDED' && failure.callDeadlinePassed) return false;
  return RETRY_BY_STATUS[failure.status] ?? false;
}

/** The status name of an error a call failed with: a gRPC status by its number, a Kiln error by its code, an
 * outage of a dependency (the registry's database) UNAVAILABLE, anything else (an exception of the registry's own)
 * UNKNOWN. */
export function statusNameOf(err: unknown): StatusName {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return NAMES[code] ?? 'UNKNOWN';
  if (typeof code === 'string' && (NAMES as readonly string[]).includes(code)) return code as StatusName;
  return unavailableReason(err) === undefined ? 'UNKNOWN' : 'UNAVAILABLE';
}
