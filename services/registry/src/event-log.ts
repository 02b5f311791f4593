// The registry's event log, in one place: the event each change records (in the change's transaction: a change is
// never without its event), and the tail that tells watchers when there is something new, on this replica at once and
// from other replicas within a poll.
import type { Logger } from '@kiln/log';
import { namespaceOf } from './names';
import type { AliasRecord, BuildResult, EventKind, EventStore, NewRegistryEvent, RegistryStore, VersionRecord } from './store';

/** Who ends a build, as events name callers. */
export const BUILDER_CALLER = 'service:builder';

function event(kind: EventKind, model: string, version: number, caller: string, more: Partial<NewRegistryEvent> = {}): NewRegistryEvent {
  return { kind, model, namespace: namespaceOf(model), version, alias: '', previousVersion: 0, caller, details: {}, ...more };
}

const image = (v: Pick<VersionRecord, 'imageReference' | 'imageDigest'> | Pick<AliasRecord, 'versionImageReference' | 'versionImageDigest'>) => {
  const [reference, digest] = 'imageReference' in v ? [v.imageReference, v.imageDigest] : [v.versionImageReference, v.versionImageDigest];
  return reference ? `${reference}${digest ? `@${digest}` : ''}` : undefined;
};

export const versionCreated = (v: VersionRecord, caller: string) =>
  event('VERSION_CREATED', v.model, v.version, caller, { details: { labels: v.labels } });

export const buildEnded = (model: string, version: number, result: { imageReference: string; imageDigest: string } | { failureReason: string }) =>
  'failureReason' in result
    ? event('VERSION_FAILED', model, version, BUILDER_CALLER, { details: { failureReason: result.failureReason } })
    : event('VERSION_RELEASED', model, version, BUILDER_CALLER, { details: { image: image(result) } });

/** Ends a build: its result and its event in one transaction (nothing when the lifecycle no longer allows it). */
export function finishBuild(store: RegistryStore, model: string, version: number, result: BuildResult): Promise<boolean> {
  return store.inTransaction(async (tx) => {
    if (!(await tx.setBuildResult(model, version, result))) return false;
    await tx.recordEvent(buildEnded(model, version, result));
    return true;
  });
}

export const versionDeleted = (model: string, version: number, caller: string) => event('VERSION_DELETED', model, version, caller);

export const labelsChanged = (model: string, version: number, labels: Record<string, string>, caller: string) =>
  event('LABELS_CHANGED', model, version, caller, { details: { labels } });

/** An alias created (no `from`), moved, or deleted (`deleted`). */
export function aliasChanged(a: { model: string; alias: string; version: number }, from: number | undefined, caller: string, target?: VersionRecord, deleted = false): NewRegistryEvent {
  const kind: EventKind = deleted ? 'ALIAS_DELETED' : from === undefined ? 'ALIAS_SET' : 'ALIAS_MOVED';
  return event(kind, a.model, a.version, caller, {
    alias: a.alias, previousVersion: deleted ? 0 : from ?? 0, details: target ? { image: image(target) } : {},
  });
}

/**
 * Where the event log ends, as this replica knows it: watchers wait on it instead of each polling the database. A
 * commit on this replica wakes them at once (`advanced`); other replicas' commits are found by one cheap query per
 * poll period. Because events commit in id order, every event up to `position` is there to read.
 */
export class EventTail {
  position = 0;
  private waiters = new Set<() => void>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;

  constructor(private readonly store: EventStore, private readonly pollMs: number, private readonly log: Logger) {}

  async start(): Promise<void> {
    this.position = await this.store.lastEventId();
    this.timer = setInterval(() => void this.poll(), this.pollMs).unref();
  }

  /** This replica committed an event: look now. */
  advanced(): void {
    void this.poll();
  }

  /** Resolves once the log is past `after` (or after the poll period, or when the signal aborts). */
  next(after: number, signal: AbortSignal): Promise<void> {
    if (this.position > after || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const wake = () => {
        if (this.position > after) done();
      };
      const timer = setTimeout(done, this.pollMs * 2);
      this.waiters.add(wake);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  stop(): void {
    clearInterval(this.timer);
    for (const wake of [...this.waiters]) wake();
  }

  private poll(): Promise<void> {
    this.polling ??= this.store.lastEventId()
      .then((last) => {
        if (last <= this.position) return;
        this.position = last;
        for (const wake of [...this.waiters]) wake();
      })
      .catch((err) => this.log.warn({ err }, 'could not read where the event log ends; watchers wait for the next poll'))
      .finally(() => (this.polling = undefined));
    return this.polling;
  }
}
