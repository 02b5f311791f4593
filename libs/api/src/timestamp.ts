// google.protobuf.Timestamp to and from Date, in proto-loader's object form: the one conversion every service, the
// CLI and the benchmarks use.
import type { Timestamp__Output } from '../generated/google/protobuf/Timestamp';

/** A Timestamp as Kiln writes one (a kiln.v1 message's Timestamp field takes it). */
export type TimestampValue = Pick<Timestamp__Output, 'seconds' | 'nanos'>;

/** A Date as a Timestamp (millisecond precision, as Date has); null stays null. */
export function toTimestamp(date: Date): TimestampValue;
export function toTimestamp(date: Date | null): TimestampValue | null;
export function toTimestamp(date: Date | null): TimestampValue | null {
  if (!date) return null;
  const ms = date.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms - Math.floor(ms / 1000) * 1000) * 1_000_000 };
}

/** A Timestamp's milliseconds since the epoch (sub-millisecond nanos dropped); NaN when absent. */
export function timestampMs(t: TimestampValue | null | undefined): number {
  return t ? Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) : NaN;
}

/** A Timestamp as a Date; null when absent. */
export function fromTimestamp(t: TimestampValue | null | undefined): Date | null {
  return t ? new Date(timestampMs(t)) : null;
}
