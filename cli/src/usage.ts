// A mistake in how the command was called (a flag's value, a missing version): found before anything is sent, and
// exit 2 (usage), where what the server refuses keeps its own code (invalid argument: 4).
export class UsageError extends Error {
  constructor(message: string, readonly where?: string) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'UsageError';
  }
}

export function usage(message: string, where?: string): UsageError {
  return new UsageError(message, where);
}
