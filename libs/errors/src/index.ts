// Errors as values: a code from gRPC's vocabulary, a message, and where the problem is. Mapped to a gRPC status at
// the edge (libs/api), so core modules stay free of transport code.

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'CANCELLED'
  | 'DEADLINE_EXCEEDED'
  /** Bytes Kiln recorded are gone (a released version's blob missing from the store): no retry brings them back. */
  | 'DATA_LOSS'
  /** No credentials, or bad ones (missing, malformed, expired, revoked token): the message says which. */
  | 'UNAUTHENTICATED'
  /** Known caller without the right: the message names the role it lacks and where. */
  | 'PERMISSION_DENIED'
  | 'INTERNAL';

export class KilnError extends Error {
  readonly code: ErrorCode;
  /** Where the problem is: a file path, an archive entry, a manifest field (`contract.inputs.x.shape`), an offset. */
  readonly location?: string;

  constructor(code: ErrorCode, message: string, location?: string, options?: { cause?: unknown }) {
    super(location ? `${location}: ${message}` : message, options);
    this.name = 'KilnError';
    this.code = code;
    this.location = location;
  }
}

export const invalidArgument = (message: string, location?: string) =>
  new KilnError('INVALID_ARGUMENT', message, location);
export const notFound = (message: string, location?: string) => new KilnError('NOT_FOUND', message, location);
export const failedPrecondition = (message: string, location?: string) =>
  new KilnError('FAILED_PRECONDITION', message, location);
export const resourceExhausted = (message: string, location?: string) =>
  new KilnError('RESOURCE_EXHAUSTED', message, location);
export const unavailable = (message: string, location?: string) => new KilnError('UNAVAILABLE', message, location);
export const unauthenticated = (message: string) => new KilnError('UNAUTHENTICATED', message);
export const permissionDenied = (message: string) => new KilnError('PERMISSION_DENIED', message);

export function isKilnError(err: unknown): err is KilnError {
  return err instanceof KilnError;
}

export { asUnavailable, unavailableReason } from './unavailable';

/**
 * `text` in at most `maxBytes` bytes of UTF-8: when longer, its start and its end (where a message says what to do)
 * with how much was left out between them. Messages repeat what callers sent (a name, a path), and a status goes
 * to the client in HTTP/2 trailers, which clients cap at a few KiB (grpc core 8 KiB): past that a reply is never
 * delivered, and the connection it was on hangs.
 */
export function capText(text: string, maxBytes: number): string {
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes) return text;
  const room = Math.max(0, maxBytes - 40); // the marker below, with its count
  const head = prefixWithin(text, Math.ceil((room * 2) / 3));
  const tail = suffixWithin(text, room - Buffer.byteLength(head));
  return `${head}…[${bytes - Buffer.byteLength(head) - Buffer.byteLength(tail)} bytes left out]…${tail}`;
}

/** The longest start of `text` (whole code points) within `maxBytes` of UTF-8. */
function prefixWithin(text: string, maxBytes: number): string {
  let used = 0;
  let end = 0;
  for (const ch of text) {
    used += Buffer.byteLength(ch);
    if (used > maxBytes) break;
    end += ch.length;
  }
  return text.slice(0, end);
}

/** The longest end of `text` (whole code points) within `maxBytes` of UTF-8. */
function suffixWithin(text: string, maxBytes: number): string {
  let used = 0;
  let start = text.length;
  while (start > 0) {
    // One code point back: a low surrogate with its high one before it is one character.
    const low = text.charCodeAt(start - 1);
    const pair = start > 1 && low >= 0xdc00 && low <= 0xdfff && isHighSurrogate(text.charCodeAt(start - 2));
    const from = start - (pair ? 2 : 1);
    used += Buffer.byteLength(text.slice(from, start));
    if (used > maxBytes) break;
    start = from;
  }
  return text.slice(start);
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/**
 * Node's AbortError: among others what a stream is destroyed with when a `for await` over it is left early (a
 * consumer that failed or stopped). Where that consumer's own error is known, it, not this, says what happened.
 */
export function isAbortError(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'AbortError';
}
