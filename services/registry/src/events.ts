// Wakes up watchers when a version changes in this process; watchers also poll the database, so changes made by
// another registry replica reach them too, only a little later.
import { EventEmitter } from 'node:events';

/** Not a `model:version` key: any change. */
const ANY = Symbol('any change');

export class VersionEvents {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  notify(model: string, version: number): void {
    this.emitter.emit(`${model}:${version}`);
    this.emitter.emit(ANY);
  }

  /** Calls `listener` after every change (the event tail looks for new events then). */
  onAny(listener: () => void): void {
    this.emitter.on(ANY, listener);
  }

  /** Resolves on the next change of the version, or after pollMs, or when the signal aborts. */
  next(model: string, version: number, pollMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const key = `${model}:${version}`;
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(key, done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      this.emitter.once(key, done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
