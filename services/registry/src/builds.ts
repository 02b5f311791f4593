// Durable builds: each new version's build job is enqueued (pg-boss, in Postgres) in the transaction that creates
// the version, and a worker hands it to the Builder service over gRPC, recording log lines and the result. Jobs
// survive restarts, are retried with backoff on transient errors, and pg-boss gives each job to one worker only.
import type pg from 'pg';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { fromGrpcError, type BuilderClient } from '@kiln/api';
import { buildSeconds, buildsFinished, setBuildQueueDepthSource } from '@kiln/api/metrics';
import type { BuildModelVersionResponse__Output } from '@kiln/api/generated/kiln/v1/BuildModelVersionResponse';
import * as store from './store';
import type { VersionEvents } from './events';

const QUEUE = 'kiln-build';
/** Codes a retry can cure: the builder or something it needs was away or overloaded. */
const TRANSIENT = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'INTERNAL', 'CANCELLED']);

export interface BuildJob {
  model: string;
  version: number;
}

export interface BuildQueueOptions {
  pool: pg.Pool;
  builder: BuilderClient;
  events: VersionEvents;
  log: Logger;
  retryLimit?: number;
  retryDelaySeconds?: number;
  /** A build running longer than this is presumed dead (its worker crashed) and retried. */
  expireInSeconds?: number;
  /** Whether this process also works on the queue (a registry replica may only enqueue). */
  work?: boolean;
}

export class BuildQueue {
  private readonly boss: PgBoss;
  private readonly retryLimit: number;
  private readonly inFlight = new Set<{ cancel(): void }>();
  private stopping = false;

  constructor(private readonly options: BuildQueueOptions) {
    this.retryLimit = options.retryLimit ?? 5;
    this.boss = new PgBoss({
      db: { executeSql: (text, values) => options.pool.query(text, values) },
      schema: 'kiln_queue',
      retryLimit: this.retryLimit,
      retryDelay: options.retryDelaySeconds ?? 2,
      retryBackoff: true,
      expireInSeconds: options.expireInSeconds ?? 3600,
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
      await this.boss.work<BuildJob>(QUEUE, { pollingIntervalSeconds: 0.5, batchSize: 1, includeMetadata: true }, async (jobs) => {
        for (const job of jobs) await this.run(job as PgBoss.JobWithMetadata<BuildJob>);
      });
    }
  }

  async stop(): Promise<void> {
    setBuildQueueDepthSource(undefined);
    // Builds in flight are cancelled (the builder stops too) and their jobs fail back to the queue while the pool
    // is still open, so another replica, or this one after a restart, retries them.
    this.stopping = true;
    for (const call of this.inFlight) call.cancel();
    await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  }

  /** Enqueues the build inside the caller's transaction: the job exists exactly when the version does. */
  async enqueue(tx: pg.PoolClient, job: BuildJob): Promise<void> {
    await this.boss.send(QUEUE, job, {
      db: { executeSql: (text, values) => tx.query(text, values) },
      singletonKey: `${job.model}:${job.version}`,
    });
  }

  /** Jobs waiting or running (for metrics and tests). */
  async depth(): Promise<number> {
    return this.boss.getQueueSize(QUEUE);
  }

  private async run(job: PgBoss.JobWithMetadata<BuildJob>): Promise<void> {
    const { model, version } = job.data;
    const { pool, events } = this.options;
    const log = this.options.log.child({ model, version, attempt: job.retryCount + 1 });
    const current = await store.getVersion(pool, model, version, true);
    if (!current || current.status !== 'BUILDING') {
      log.info({ status: current?.status }, 'build skipped: the version is no longer building');
      return;
    }
    await store.setBuildStarted(pool, model, version);
    events.notify(model, version);
    log.info('build started');
    const endTimer = buildSeconds.startTimer();
    let recorded = false;
    const outcome = (o: 'released' | 'failed' | 'retried') => {
      if (recorded) return;
      recorded = true;
      endTimer({ outcome: o });
      buildsFinished.inc({ outcome: o });
    };
    try {
      const result = await this.callBuilder(model, version, log);
      outcome('released');
      if (await store.setBuildResult(pool, model, version, result)) {
        log.info({ image: result.imageReference, digest: result.imageDigest }, 'version released');
      }
    } catch (err) {
      const error = fromGrpcError(err, 'build');
      const lastAttempt = job.retryCount >= this.retryLimit;
      if (TRANSIENT.has(error.code) && !lastAttempt) {
        outcome('retried');
        log.warn({ err: error.message, code: error.code }, 'build failed transiently; it will be retried');
        throw error;
      }
      outcome('failed');
      await store.setBuildResult(pool, model, version, { failureReason: error.message });
      log.warn({ err: error.message, code: error.code }, 'build failed');
    } finally {
      events.notify(model, version);
    }
  }

  private callBuilder(model: string, version: number, log: Logger): Promise<{ imageReference: string; imageDigest: string }> {
    const { pool, events, builder } = this.options;
    return new Promise((resolve, reject) => {
      if (this.stopping) {
        reject(fromGrpcError({ code: 14, details: 'the registry is shutting down' }));
        return;
      }
      const call = builder.BuildModelVersion({ model, version });
      this.inFlight.add(call);
      call.on('close', () => this.inFlight.delete(call));
      // A retried build numbers its lines from 1 again: they are stored after the earlier attempts' lines.
      const offset = store.lastLogLine(pool, model, version);
      offset.catch(() => {}); // surfaces through `pending` when a log line needs it
      let result: { imageReference: string; imageDigest: string } | undefined;
      let pending: Promise<void> = Promise.resolve();
      call.on('data', (event: BuildModelVersionResponse__Output) => {
        if (event.log) {
          const { number, line } = event.log;
          pending = pending
            .then(() => offset)
            .then((base) => store.appendLogLines(pool, model, version, [{ number: base + number, line }]))
            .then(() => events.notify(model, version));
        } else if (event.result) {
          result = { imageReference: event.result.imageReference, imageDigest: event.result.imageDigest };
        }
      });
      call.on('error', (err) => {
        this.inFlight.delete(call);
        pending.finally(() => reject(err));
      });
      call.on('end', () =>
        pending.then(() => {
          if (result) resolve(result);
          else reject(fromGrpcError({ code: 13, details: 'the builder ended without a result' }));
        }, reject),
      );
      log.debug('builder called');
    });
  }
}
