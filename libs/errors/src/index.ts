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

export function isKilnError(err: unknown): err is KilnError {
  return err instanceof KilnError;
}

export { asUnavailable, unavailableReason } from './unavailable';
