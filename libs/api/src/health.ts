// grpc.health.v1 statuses that follow what each service needs: every few seconds each dependency probe (a service's
// database, its blob store) is run with a timeout, and a service is NOT_SERVING while one of its dependencies does
// not answer, SERVING again once all do; the overall '' entry is SERVING only while every service is. Calls never
// wait for a probe: Check and Watch answer from the statuses the last round set.
import type { HealthImplementation, ServingStatus } from 'grpc-health-check';
import type { Logger } from 'pino';

/** Something a service cannot serve without, and how to tell that it answers. */
export interface DependencyProbe {
  /** For logs: `postgres`, `blob store`. */
  name: string;
  /** Resolves when the dependency answers; the signal aborts when the probe's time is up. */
  check(signal: AbortSignal): Promise<void>;
}

export interface HealthOptions {
  /** Time between rounds of probes (default 5 s). */
  intervalMs?: number;
  /** Time a probe has to answer (default 2 s). */
  timeoutMs?: number;
}

export interface ServiceDependencies {
  name: string;
  dependencies: readonly DependencyProbe[];
}

/** Starts the rounds; stop() ends them (a shutdown then sets its own statuses, which no late round overwrites). */
export function monitorDependencies(
  health: HealthImplementation,
  services: readonly ServiceDependencies[],
  log: Logger,
  options: HealthOptions = {},
): { stop(): void } {
  const intervalMs = options.intervalMs ?? 5000;
  const timeoutMs = options.timeoutMs ?? 2000;
  // A probe two services share (one blob store) runs once a round.
  const probes = [...new Set(services.flatMap((s) => s.dependencies))];
  if (!probes.length) return { stop() {} };
  const answering = new Map<DependencyProbe, boolean>(probes.map((p) => [p, true]));
  // A check still running from an earlier round counts as failing, and no second one starts beside it: a
  // dependency that hangs must not pile up probes (each may hold a pooled connection).
  const running = new Set<DependencyProbe>();
  const statuses = new Map<string, ServingStatus>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const probe = async (p: DependencyProbe): Promise<void> => {
    if (running.has(p)) return record(p, new Error(`no answer for over ${timeoutMs} ms (still waiting)`));
    running.add(p);
    const controller = new AbortController();
    let timeout: NodeJS.Timeout | undefined;
    const checking = p.check(controller.signal).finally(() => running.delete(p));
    try {
      await Promise.race([
        checking,
        new Promise<never>((_, reject) => {
          timeout = setTimeout(() => {
            controller.abort();
            reject(new Error(`no answer within ${timeoutMs} ms`));
          }, timeoutMs);
        }),
      ]);
      record(p);
    } catch (err) {
      checking.catch(() => {}); // settles later, or already failed: reported once, above
      record(p, err);
    } finally {
      clearTimeout(timeout);
    }
  };

  const record = (p: DependencyProbe, err?: unknown) => {
    const ok = err === undefined;
    if (answering.get(p) === ok || stopped) return;
    answering.set(p, ok);
    if (ok) log.info({ dependency: p.name }, 'dependency answers again');
    else log.warn({ dependency: p.name, err }, 'dependency does not answer: the services that need it report NOT_SERVING');
  };

  const set = (name: string, status: ServingStatus) => {
    if (statuses.get(name) === status) return;
    statuses.set(name, status);
    health.setStatus(name, status);
  };

  const round = async () => {
    await Promise.all(probes.map(probe));
    if (stopped) return;
    let all: ServingStatus = 'SERVING';
    for (const s of services) {
      const status = s.dependencies.every((p) => answering.get(p)) ? 'SERVING' : 'NOT_SERVING';
      if (status === 'NOT_SERVING') all = status;
      set(s.name, status);
    }
    set('', all);
    timer = setTimeout(() => void round(), intervalMs).unref();
  };
  timer = setTimeout(() => void round(), intervalMs).unref();

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
