// Durable builds: each new version's build job is enqueued (pg-boss, in Postgres) in the transaction that creates
// the version, and a worker hands it to the Builder service over gRPC, recording log lines and the result. Jobs
// survive restarts and are retried with capped backoff on failures a retry can cure (build-retry.ts); any other
// failure ends the version FAILED at once. A running build holds a lease on its
// version, renewed every third of its length: two workers never build one version at once (pg-boss's standard
// queue alone would not ensure it: a duplicate job or an expired one runs again), and a registry that dies
// mid-build has its job handed back by any other registry's watchdog once the lease lapses, not after pg-boss's
// expiry.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import type pg from 'pg';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { fromGrpcError, type BuilderClient } from '@kiln/api';
import { promiseClient } from '@kiln/api/client';
import { buildSeconds, buildsFinished, setBuildQueueDepthSource } from './metrics';
import type { KilnConfig } from '@kiln/config';
import { KilnError } from '@kiln/errors';
import { awaitsBuild } from './lifecycle';
import { PostgresStore } from './store/postgres';
import { finishBuild } from './event-log';
import { BUILD_QUEUE_SCHEMA, orphanedBuilds, retryAbandonedBuildJobs, retryBuildJob } from './store/postgres/build-jobs';
import { releaseBuildLease, renewBuildLease, takeBuildLease } from './store/postgres/build-leases';
import { isRetryable, statusNameOf } from './build-retry';
import type { VersionEvents } from './events';

const QUEUE = 'kiln-build';
/** pg-boss's own expiry of an active job, a last resort behind the leases (pg-boss allows under 24 hours). A call
 * to the builder ends a minute before it: a call that hangs (a builder host gone without closing its connection)
 * would otherwise keep its lease alive forever. */
const EXPIRE_SECONDS = 6 * 3600;
/** How often an idle worker looks for a build job. */
const POLL_MS = 500;

export interface BuildJob {
  model: string;
  version: number;
}

export type BuildSettings = KilnConfig['builds'];

export interface BuildQueueOptions {
  pool: pg.Pool;
  builder: BuilderClient;
  events: VersionEvents;
  log: Logger;
  /** Retries and lease (the configuration's KILN_BUILD_*). */
  settings: BuildSettings;
  /** Whether this process also works on the queue (a registry replica may only enqueue). */
  work?: boolean;
}

/** Seconds before retry number `retry` (1 for the first): doubling from the base delay up to the cap, with jitter
 * so that builds that failed together (the builder was down) do not all come back at the same second. */
export function retryDelaySeconds(retry: number, settings: Pick<BuildSettings, 'retryDelaySeconds' | 'retryMaxDelaySeconds'>, random = Math.random()): number {
  const full = Math.min(settings.retryMaxDelaySeconds, settings.retryDelaySeconds * 2 ** Math.max(0, retry - 1));
  return Math.max(1, Math.round(full * (0.5 + random / 2)));
}

/** The registry's own database failing while it records a build's log is not the build's fault: UNAVAILABLE, so the
 * build is retried rather than FAILED. */
function logNotRecorded(err: unknown): never {
  throw new KilnError('UNAVAILABLE', `the registry could not record the build's log: ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * Makes the build queue's tables and its queue in a new database, as the first BuildQueue.start() would, without
 * starting workers: for the embedded database's template (database.ts).
 */
export async function createBuildQueueSchema(pool: pg.Pool): Promise<void> {
  const boss = new PgBoss({ db: { executeSql: (text, values) => pool.query(text, values) }, schema: BUILD_QUEUE_SCHEMA, supervise: false, schedule: false });
  await boss.start();
  if (!(await boss.getQueue(QUEUE))) await boss.createQueue(QUEUE, { name: QUEUE, policy: 'standard' });
  await boss.stop({ graceful: false, wait: true });
}

/** What the build queue's schema is made of, for the template's key: pg-boss's own plan and the queue's name. */
export const buildQueueSchemaPlan = () => `${PgBoss.getConstructionPlans(BUILD_QUEUE_SCHEMA)}\nqueue ${QUEUE}`;

export class BuildQueue {
  private readonly boss: PgBoss;
  private readonly store: PostgresStore;
  /** This process in lease owners' names (each lease adds a token of its own). */
  private readonly owner = `${os.hostname()}:${process.pid}`;
  private readonly inFlight = new Set<{ cancel(): void }>();
  private watchdog?: NodeJS.Timeout;
  /** The work loop (when this process works on the queue), and what wakes it from its wait to stop. */
  private working?: Promise<void>;
  private readonly wake = new AbortController();
  private stopping = false;

  constructor(private readonly options: BuildQueueOptions) {
    this.store = new PostgresStore(options.pool);
    this.boss = new PgBoss({
      db: { executeSql: (text, values) => options.pool.query(text, values) },
      schema: BUILD_QUEUE_SCHEMA,
      // Used only when pg-boss itself fails a job (its expiry): the workers retry with their own capped backoff.
      retryLimit: options.settings.retryLimit,
      retryDelay: options.settings.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: EXPIRE_SECONDS,
      // The registry's own pool is small on PGlite: poll gently, supervise rarely.
      maintenanceIntervalSeconds: 120,
      monitorStateIntervalSeconds: 60,
    });
    this.boss.on('error', (err) => options.log.error({ err }, 'build queue error'));
  }

  async start(): Promise<void> {
    await this.boss.start();
    setBuildQueueDepthSource(() => this.depth());
    const existing = await this.boss.getQueue(QUEUE);
    if (!existing) await this.boss.createQueue(QUEUE, { name: QUEUE, policy: 'standard' });
    if (this.options.work !== false) {
      // KILN_BUILD_CONCURRENCY loops, each one build at a time: with several builders, one registry keeps more
      // than one busy (its builder client spreads the calls round robin).
      const loops = Array.from({ length: this.options.settings.concurrency }, () => this.work());
      this.working = Promise.all(loops).then(() => {});
      const tick = () => void this.supervise();
      this.watchdog = setInterval(tick, (this.options.settings.leaseSeconds * 1000) / 3).unref();
    }
  }

  /**
   * Takes build jobs one at a time until stop() (start() runs KILN_BUILD_CONCURRENCY of these loops). Not pg-boss's work(): pg-boss 10 (its newer majors need Node 22)
   * completes or fails each job it handed out without a catch, so a database that failed at that moment was an
   * unhandled rejection, and the end of the process. Here every step's failure is caught and logged, and the
   * job, if it could not be settled, comes back through the lease watchdog.
   */
  private async work(): Promise<void> {
    const { log } = this.options;
    while (!this.stopping) {
      let jobs: Array<PgBoss.JobWithMetadata<BuildJob>> = [];
      let troubled = false; // the database is likely down: the next look waits longer
      try {
        jobs = await this.boss.fetch<BuildJob>(QUEUE, { batchSize: 1, includeMetadata: true });
      } catch (err) {
        troubled = true;
        log.error({ err }, 'taking a build job failed; trying again');
      }
      for (const job of jobs) {
        // As pg-boss's worker would: completed (a no-op unless run() left it active: a skipped build), or failed on
        // an error, for pg-boss's own retries.
        const settled = await this.run(job).then(
          () => this.boss.complete(QUEUE, job.id),
          (err) => this.boss.fail(QUEUE, job.id, { message: err instanceof Error ? err.message : String(err) }),
        ).then(() => true, (err) => {
          log.error({ err, model: job.data.model, version: job.data.version }, 'could not settle the build job; the watchdog retries it once its lease lapses');
          return false;
        });
        if (!settled) troubled = true;
      }
      if (!jobs.length || troubled) {
        await sleep(troubled ? 10 * POLL_MS : POLL_MS, undefined, { signal: this.wake.signal }).catch(() => {});
      }
    }
  }

  async stop(): Promise<void> {
    setBuildQueueDepthSource(undefined);
    clearInterval(this.watchdog);
    // Builds in flight are cancelled (the builder stops too) and their jobs go back to the queue while the pool
    // is still open, so another replica, or this one after a restart, retries them.
    this.stopping = true;
    this.wake.abort();
    for (const call of this.inFlight) call.cancel();
    // The attempt running has settled before stop() returns (it ends quickly: its builder call was cancelled above,
    // or it sees `stopping`): it would otherwise touch the pool after the registry closed it.
    if (this.working) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.working, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
      clearTimeout(timer);
    }
    await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  }

  /** Enqueues the build inside the caller's transaction: the job exists exactly when the version does. */
  async enqueue(tx: pg.PoolClient, job: BuildJob): Promise<void> {
    const id = await this.boss.send(QUEUE, job, { db: { executeSql: (text, values) => tx.query(text, values) } });
    // pg-boss inserts nothing (and says so only by a null id) when, for one, the queue is missing: a version
    // without a job would stay BUILDING forever, so the caller's transaction must roll back.
    if (!id) throw new KilnError('INTERNAL', `the build queue ${QUEUE} did not take the build`, `${job.model} version ${job.version}`);
  }

  /** Jobs waiting or running (for metrics and tests). */
  async depth(): Promise<number> {
    return this.boss.getQueueSize(QUEUE);
  }

  /**
   * A version left BUILDING with no job (pg-boss gave up on its job, or the job was lost) would never finish: it gets
   * a new job. Two registries doing this at once enqueue twice at worst; the lease and the status check make the
   * second job a no-op. Returns the versions re-enqueued.
   */
  async requeueOrphaned(): Promise<BuildJob[]> {
    const orphans = await orphanedBuilds(this.options.pool, QUEUE, this.options.settings.leaseSeconds);
    for (const job of orphans) {
      const id = await this.boss.send(QUEUE, job);
      this.options.log.warn({ model: job.model, version: job.version, job: id }, 'version was building with no build job; enqueued it again');
    }
    return orphans;
  }

  /** The watchdog: jobs whose registry died mid-build go back to the queue at once; orphaned versions get a job. */
  private async supervise(): Promise<void> {
    await this.requeueOrphaned().catch((err) => this.options.log.error({ err }, 'looking for builds without a job failed; the next round tries again'));
    try {
      const jobs = await retryAbandonedBuildJobs(this.options.pool, QUEUE, this.options.settings.leaseSeconds);
      for (const { id, model, version } of jobs) {
        this.options.log.warn({ model, version, job: id }, 'build abandoned by a worker that stopped renewing its lease; retrying it');
      }
    } catch (err) {
      this.options.log.warn({ err }, 'looking for abandoned builds failed; the next look tries again');
    }
  }

  private async run(job: PgBoss.JobWithMetadata<BuildJob>): Promise<void> {
    const { model, version } = job.data;
    const { pool, events } = this.options;
    const { leaseSeconds, retryLimit } = this.options.settings;
    const log = this.options.log.child({ model, version, attempt: job.retryCount + 1 });
    const current = await this.store.getVersion(model, version, true);
    if (!current || !awaitsBuild(current.status)) {
      log.info({ status: current?.status }, 'build skipped: the version is no longer building');
      return;
    }
    const owner = `${this.owner}/${randomUUID()}`;
    if (!(await takeBuildLease(pool, model, version, owner, job.id, leaseSeconds))) {
      // A live worker builds this version (a duplicate or expired job): look again when its lease could lapse.
      log.info('build skipped: another worker holds the version\'s build lease; the job comes back later');
      await retryBuildJob(pool, QUEUE, job.id, leaseSeconds);
      return;
    }
    await this.store.setBuildStarted(model, version);
    events.notify(model, version);
    log.info('build started');
    // Renewed only from here: a start that failed above leaves the lease to lapse, and the job to the watchdog.
    const lost = new AbortController();
    const renew = setInterval(() => {
      renewBuildLease(pool, model, version, owner, leaseSeconds).then(
        (held) => {
          if (!held && !lost.signal.aborted) {
            log.warn('the build lease lapsed and another worker took it: this attempt stops');
            lost.abort();
          }
        },
        (err) => log.warn({ err }, 'renewing the build lease failed; the next renewal tries again'),
      );
    }, (leaseSeconds * 1000) / 3);
    const endTimer = buildSeconds.startTimer();
    let recorded = false;
    const outcome = (o: 'released' | 'failed' | 'retried') => {
      if (recorded) return;
      recorded = true;
      endTimer({ outcome: o });
      buildsFinished.inc({ outcome: o });
    };
    const deadline = Date.now() + (EXPIRE_SECONDS - 60) * 1000;
    try {
      const result = await this.callBuilder(model, version, log, lost.signal, deadline);
      outcome('released');
      if (await finishBuild(this.store, model, version, result)) {
        log.info({ image: result.imageReference, digest: result.imageDigest }, 'version released');
      }
      // Completed before the lease goes, so the watchdog never sees a leaseless active job for a finished build.
      await this.boss.complete(QUEUE, job.id);
    } catch (err) {
      const error = fromGrpcError(err, 'build');
      if (lost.signal.aborted) {
        // The job now belongs to the lease's new owner: failing it (not completing it) leaves it in the queue.
        outcome('retried');
        throw error;
      }
      const retryable = isRetryable({ status: statusNameOf(err), callDeadlinePassed: Date.now() >= deadline });
      if (retryable && job.retryCount < retryLimit) {
        outcome('retried');
        const delay = this.stopping ? 1 : retryDelaySeconds(job.retryCount + 1, this.options.settings);
        log.warn({ err: error.message, code: error.code, retryInSeconds: delay }, 'build failed transiently; it will be retried');
        await retryBuildJob(pool, QUEUE, job.id, delay);
      } else {
        outcome('failed');
        await finishBuild(this.store, model, version, { failureReason: error.message });
        log.warn({ err: error.message, code: error.code, retryable }, 'build failed');
        await this.boss.complete(QUEUE, job.id);
      }
    } finally {
      clearInterval(renew);
      await releaseBuildLease(pool, model, version, owner).catch((err) => log.warn({ err }, 'releasing the build lease failed; it lapses by itself'));
      events.notify(model, version);
    }
  }

  private async callBuilder(model: string, version: number, log: Logger, signal: AbortSignal, deadline: number): Promise<{ imageReference: string; imageDigest: string }> {
    const { events, builder } = this.options;
    if (this.stopping) throw fromGrpcError({ code: 14, details: 'the registry is shutting down' });
    const stopped = new AbortController();
    const inFlight = { cancel: () => stopped.abort() };
    this.inFlight.add(inFlight);
    // A retried build numbers its lines from 1 again: they are stored after the earlier attempts' lines.
    const offset = this.store.lastLogLine(model, version).catch(logNotRecorded);
    offset.catch(() => {}); // surfaces through `pending` when a log line needs it
    let result: { imageReference: string; imageDigest: string } | undefined;
    let pending: Promise<void> = Promise.resolve();
    // A log line that cannot be stored ends the build at once (retried: UNAVAILABLE) rather than after it, and
    // its error is handled here: it may come while the builder says nothing, with nobody waiting on `pending`.
    const logLost = new AbortController();
    try {
      const responses = promiseClient(builder).BuildModelVersion({ model, version }, {
        deadline,
        signal: AbortSignal.any([signal, stopped.signal, logLost.signal]),
      });
      log.debug('builder called');
      for await (const event of responses) {
        if (event.log) {
          const { number, line } = event.log;
          pending = pending
            .then(() => offset)
            .then((base) => this.store.appendLogLines(model, version, [{ number: base + number, line }]).catch(logNotRecorded))
            .then(() => events.notify(model, version));
          pending.catch((err) => logLost.abort(err));
        } else if (event.result) {
          result = { imageReference: event.result.imageReference, imageDigest: event.result.imageDigest };
        }
      }
    } catch (err) {
      if (logLost.signal.aborted) throw logLost.signal.reason;
      // The call's error wins; a log line that failed to store is then beside the point.
      await pending.catch(() => {});
      throw err;
    } finally {
      this.inFlight.delete(inFlight);
    }
    await pending;
    if (!result) throw fromGrpcError({ code: 13, details: 'the builder ended without a result' });
    return result;
  }
}
