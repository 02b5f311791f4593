// Exit codes scripts can rely on: one per kind of failure, documented in the README.
import type { ErrorCode } from '@kiln/errors';

export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  INVALID_ARGUMENT: 4,
  ALREADY_EXISTS: 5,
  FAILED_PRECONDITION: 6,
  UNAVAILABLE: 7,
  RESOURCE_EXHAUSTED: 8,
  /** `kiln watch` / `upload --wait`: the version's build ended FAILED. */
  BUILD_FAILED: 9,
  /** No token, or a bad one (KILN_TOKEN / --token). */
  UNAUTHENTICATED: 10,
  /** The token lacks the role the call needs. */
  PERMISSION_DENIED: 11,
  /** `kiln diff`: the candidate's contract breaks the one it is compared against. */
  BREAKING_CHANGES: 12,
  CANCELLED: 130,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'NOT_FOUND':
      return EXIT.NOT_FOUND;
    case 'INVALID_ARGUMENT':
      return EXIT.INVALID_ARGUMENT;
    case 'ALREADY_EXISTS':
      return EXIT.ALREADY_EXISTS;
    case 'FAILED_PRECONDITION':
      return EXIT.FAILED_PRECONDITION;
    case 'UNAVAILABLE':
    case 'DEADLINE_EXCEEDED':
      return EXIT.UNAVAILABLE;
    case 'RESOURCE_EXHAUSTED':
      return EXIT.RESOURCE_EXHAUSTED;
    case 'CANCELLED':
      return EXIT.CANCELLED;
    case 'UNAUTHENTICATED':
      return EXIT.UNAUTHENTICATED;
    case 'PERMISSION_DENIED':
      return EXIT.PERMISSION_DENIED;
    default:
      return EXIT.FAILURE;
  }
}
