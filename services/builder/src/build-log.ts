// A build's log: numbered lines sent to the caller as they happen, the same lines on the service log at debug, and
// the last ones kept for error messages.
import type { Logger } from '@kiln/log';

export class BuildLog {
  private number = 0;
  private readonly tail: string[] = [];

  constructor(
    private readonly emit: (line: string, number: number) => void,
    private readonly log: Logger,
    private readonly keep = 20,
  ) {}

  /** Adds one line per line of `text` (a trailing newline adds none). */
  line(text: string): void {
    for (const line of text.replace(/\r?\n$/, '').split(/\r?\n/)) {
      this.number++;
      this.tail.push(line);
      if (this.tail.length > this.keep) this.tail.shift();
      this.log.debug({ line: this.number }, line);
      this.emit(line, this.number);
    }
  }

  /** The last lines, newest last. */
  lastLines(): string[] {
    return [...this.tail];
  }
}

/** Splits a stream of text chunks into whole lines; `flush` returns what is left after the last newline. */
export class LineSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const parts = text.split('\n');
    this.rest = parts.pop() ?? '';
    return parts.map((l) => l.replace(/\r$/, ''));
  }

  flush(): string[] {
    const rest = this.rest;
    this.rest = '';
    return rest ? [rest.replace(/\r$/, '')] : [];
  }
}
