// End to end: durable builds with each service as its own real process on one real Postgres database. Two working
// registries never build one version twice (even with duplicate jobs), a build survives kill -9 of the builder or
// of the registry (picked up within seconds, by the lease, not after pg-boss's expiry), a version uploaded while the
// builder is down is built once it is up, and an enqueue that rolls back with its upload leaves no job.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import PgBoss from 'pg-boss';
import * as grpc from '@grpc/grpc-js';
import { builderClient, kilnProto, registryClient, type RegistryClient } from '@kiln/api';
import { loadConfig } from '@kiln/config';
import { createLogger } from '@kiln/log';
import { migrate, openDatabase, withTransaction } from '@kiln/metadata';
import { BuildQueue, retryDelaySeconds } from '../services/registry/src/builds';
import { VersionEvents } from '../services/registry/src/events';
import * as store from '../services/registry/src/store/postgres/versions';
import { MIGRATIONS_DIR } from '../services/registry/src/index';
import { startKilnProcess, type KilnProcess } from './helpers/kiln-process';
import { uploadModel, waitForBuild, type UploadFile } from './helpers/services';
import { emptyS3Prefix, freePort, freshDatabase, type TestDatabase } from './helpers/test-config';

const run = promisify(execFile);
const VARS = ['KILN_TEST_DATABASE_URL', 'KILN_TEST_S3_ENDPOINT', 'KILN_TEST_REGISTRY', 'KILN_TEST_DOCKER_HOST', 'KILN_TEST_BASE_IMAGE'] as const;
const missing = VARS.filter((v) => !process.env[v]);
const QUEUE_JOBS = 'kiln_queue.job';

describe('build retry delays', () => {
  it('double from the base delay up to the cap, jittered down to half, never under a second', () => {
    const settings = { retryDelaySeconds: 2, retryMaxDelaySeconds: 300 };
    assert.deepEqual([1, 2, 3, 8, 9, 30].map((n) => retryDelaySeconds(n, settings, 1)), [2, 4, 8, 256, 300, 300]);
    assert.deepEqual([1, 2, 9].map((n) => retryDelaySeconds(n, settings, 0)), [1, 2, 150]);
    assert.equal(retryDelaySeconds(1, { retryDelaySeconds: 1, retryMaxDelaySeconds: 1 }, 0), 1);
  });
});

if (missing.length) {
  // Not a skip: a run without the servers must not pass as if durability had been tested.
  it('the build durability tests need the servers of scripts/test-env', () => {
    assert.fail(`${missing.join(', ')} not set: run through scripts/test, or eval "$(bash scripts/test-env start)" first`);
  });
} else {
  const env = Object.fromEntries(VARS.map((v) => [v, process.env[v]!])) as Record<(typeof VARS)[number], string>;
  // In every Docker build's files: the engine's layer cache outlives test runs, and a cached RUN prints nothing.
  const nonce = (): UploadFile => ({ path: 'nonce.txt', content: `${process.pid}-${Date.now()}-${randomBytes(4).toString('hex')}\n` });
  const SLOW = (seconds: number) => `runtime: ${env.KILN_TEST_BASE_IMAGE}\ninstall-command: "echo kiln-slow-start; sleep ${seconds}; echo kiln-slow-done"\n`;
  /** Short leases and retries, so that a test sees in seconds what production does in tens of seconds. */
  const FAST_BUILDS = { KILN_BUILD_LEASE_SECONDS: '3', KILN_BUILD_RETRY_DELAY_SECONDS: '1', KILN_BUILD_RETRY_MAX_DELAY_SECONDS: '2', KILN_BUILD_RETRY_LIMIT: '30' };

  type Service = 'registry' | 'builder' | 'inference';

  /** Kiln as separate processes (registries, builder, inference) on one database and one blob prefix. */
  class Cluster {
    readonly runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    readonly s3Prefix = `durable/${this.runId}/`;
    readonly imagePrefix = `kiln-durable-${this.runId}`;
    readonly processes = new Set<KilnProcess>();
    readonly clients: RegistryClient[] = [];
    db!: TestDatabase;
    ports!: Record<Service, number>;

    async init(): Promise<void> {
      this.db = await freshDatabase();
      const [registry, builder, inference] = await Promise.all([freePort(), freePort(), freePort()]);
      this.ports = { registry, builder, inference };
    }

    /** Starts one service; the builder and the registries log at info level, so their build lines can be counted. */
    async start(service: Service, registryPort = this.ports.registry): Promise<KilnProcess> {
      const name = `kiln.v1.${service[0].toUpperCase()}${service.slice(1)}`;
      const address = (p: number) => `127.0.0.1:${p}`;
      const proc = await startKilnProcess({
        script: `services/${service}/src/main.ts`,
        services: [name],
        databaseUrl: this.db.url,
        s3Prefix: this.s3Prefix,
        ports: { ...this.ports, registry: registryPort },
        env: {
          ...FAST_BUILDS,
          KILN_LOG_LEVEL: service === 'inference' ? 'warn' : 'info',
          KILN_REGISTRY_ADDRESS: address(this.ports.registry),
          KILN_BUILDER_ADDRESS: address(this.ports.builder),
          KILN_INFERENCE_ADDRESS: address(this.ports.inference),
          KILN_DOCKER_HOST: env.KILN_TEST_DOCKER_HOST,
          KILN_IMAGE_REGISTRY: env.KILN_TEST_REGISTRY,
          KILN_IMAGE_REGISTRY_INSECURE: 'true',
          KILN_IMAGE_PREFIX: this.imagePrefix,
        },
      });
      this.processes.add(proc);
      return proc;
    }

    client(proc: KilnProcess): RegistryClient {
      const client = registryClient(proc.registry);
      this.clients.push(client);
      return client;
    }

    async stop(): Promise<void> {
      for (const c of this.clients) c.close();
      for (const p of this.processes) await p.stop().catch(() => {});
      await this.db?.drop();
      await emptyS3Prefix(this.s3Prefix);
      // The engine keeps the images it built for the registry: remove this run's.
      const { stdout } = await run('docker', ['-H', env.KILN_TEST_DOCKER_HOST, 'images', '--format', '{{.Repository}}:{{.Tag}}']).catch(() => ({ stdout: '' }));
      const mine = stdout.split('\n').filter((r) => r.includes(`/${this.imagePrefix}/`));
      if (mine.length) await run('docker', ['-H', env.KILN_TEST_DOCKER_HOST, 'rmi', '-f', ...mine]).catch(() => {});
    }
  }

  /** The JSON log lines of a process with this message, as model:version keys. */
  function logged(proc: KilnProcess, msg: string): string[] {
    return proc.output().split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        const entry = JSON.parse(line) as { msg?: string; model?: string; version?: number };
        return entry.msg === msg ? [`${entry.model}:${entry.version}`] : [];
      } catch {
        return [];
      }
    });
  }
  const countBy = (keys: string[]) => keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());
  const RELEASED = 'MODEL_VERSION_STATUS_RELEASED';

  describe('two registries working one queue', () => {
    const cluster = new Cluster();
    let r1: KilnProcess;
    let r2: KilnProcess;
    let builder: KilnProcess;
    before(async () => {
      await cluster.init();
      await cluster.start('inference');
      builder = await cluster.start('builder');
      // Sequential: the first registry runs the migrations and creates the queue.
      r1 = await cluster.start('registry');
      r2 = await cluster.start('registry', await freePort());
    });
    after(() => cluster.stop());

    it('build each version exactly once, even with a duplicate job for a version being built and for every other', async () => {
      const clients = [cluster.client(r1), cluster.client(r2)];
      const uploads: Array<{ model: string; version: number }> = [];
      // Daemonless builds (quick) and engine builds (a few seconds), uploaded through both registries.
      for (let i = 0; i < 6; i++) {
        const model = i % 2 ? 'durable-engine' : 'durable-plain';
        const manifest = i % 2 ? SLOW(2) : '';
        const v = await uploadModel(clients[i % 2], model, [{ path: 'a.txt', content: `file ${i}\n` }, nonce()], { manifest });
        uploads.push({ model, version: v.version });
      }
      // A version whose build certainly runs now (its own log says so), and a duplicate job for it: the worker that
      // gets the duplicate finds the live lease and leaves the build alone.
      const slow = await uploadModel(clients[0], 'durable-slow', [{ path: 'a.txt', content: 'slow\n' }, nonce()], { manifest: SLOW(6) });
      uploads.push({ model: 'durable-slow', version: slow.version });
      const admin = new pg.Client({ connectionString: cluster.db.url });
      await admin.connect();
      try {
        let duplicated = false;
        const slowDone = waitForBuild(clients[1], 'durable-slow', slow.version, {
          timeoutMs: 180_000,
          onLog: (line) => {
            if (line === 'kiln-slow-start' && !duplicated) {
              duplicated = true;
              void admin.query(`INSERT INTO ${QUEUE_JOBS} (name, data) SELECT name, data FROM ${QUEUE_JOBS} WHERE name = 'kiln-build' AND data->>'model' = 'durable-slow'`);
            }
          },
        });
        assert.equal((await slowDone).version.status, RELEASED, (await slowDone).version.failureReason);
        // Then a second job for every version: those that were built already are skipped.
        await admin.query(`INSERT INTO ${QUEUE_JOBS} (name, data) SELECT name, data FROM ${QUEUE_JOBS} WHERE name = 'kiln-build' AND data->>'model' <> 'durable-slow'`);
        for (const { model, version } of uploads) {
          const { version: v } = await waitForBuild(clients[version % 2], model, version, { timeoutMs: 180_000 });
          assert.equal(v.status, RELEASED, `${model}:${version}: ${v.failureReason}`);
        }
        // Every job, the duplicates too, ends: none is left waiting or running.
        const deadline = Date.now() + 60_000;
        let open = -1;
        while (Date.now() < deadline) {
          const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${QUEUE_JOBS} WHERE name = 'kiln-build' AND state < 'completed'`);
          open = rows[0].n;
          if (open === 0) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        assert.equal(open, 0, 'jobs still open');
      } finally {
        await admin.end();
      }
      // The builder's own account: one BuildModelVersion that started building per version.
      const builds = countBy(logged(builder, 'build started'));
      assert.deepEqual(Object.fromEntries(builds), Object.fromEntries(uploads.map(({ model, version }) => [`${model}:${version}`, 1])));
      const registryLogs = [r1, r2].map((r) => r.output()).join('\n');
      assert.match(registryLogs, /another worker holds the version's build lease/, 'the duplicate of the running build met its lease');
      const started = [r1, r2].map((r) => logged(r, 'build started').length);
      console.log(`# builds started by registry 1: ${started[0]}, by registry 2: ${started[1]}`);
    });
  });

  describe('a builder killed with SIGKILL mid-build', () => {
    const cluster = new Cluster();
    let registry: KilnProcess;
    before(async () => {
      await cluster.init();
      await cluster.start('inference');
      await cluster.start('builder');
      registry = await cluster.start('registry');
    });
    after(() => cluster.stop());

    it('finishes the build once a new builder runs, the retry\'s log lines after the first attempt\'s', async () => {
      const client = cluster.client(registry);
      const v = await uploadModel(client, 'killed-builder', [{ path: 'a.txt', content: 'a\n' }, nonce()], { manifest: SLOW(4) });
      let restarted: Promise<KilnProcess> | undefined;
      const { version, log } = await waitForBuild(client, 'killed-builder', v.version, {
        timeoutMs: 180_000,
        onLog: (line) => {
          if (line === 'kiln-slow-start' && !restarted) {
            const first = [...cluster.processes].find((p) => p.builder === `127.0.0.1:${cluster.ports.builder}` && p.output().includes('build started'))!;
            restarted = first.kill().then(() => cluster.start('builder'));
          }
        },
      });
      assert.ok(restarted, 'the builder was killed mid-build');
      await restarted;
      assert.equal(version.status, RELEASED, version.failureReason);
      const starts = log.flatMap((l, i) => (l === 'kiln-slow-start' ? [i] : []));
      const done = log.indexOf('kiln-slow-done');
      assert.ok(starts.length >= 2, `the build ran again after the kill; log:\n${log.join('\n')}`);
      assert.ok(done > starts.at(-1)!, 'the retry ran the command to its end, after the first attempt\'s lines');
      assert.ok(!log.slice(0, starts[1]).includes('kiln-slow-done'), 'killed before the first attempt\'s command ended');
      const transient = (registry.output().match(/build failed transiently/g) ?? []).length;
      assert.ok(transient >= 1, 'the registry saw the builder go away and retried');
    });
  });

  describe('a registry killed with SIGKILL mid-build', () => {
    const cluster = new Cluster();
    before(async () => {
      await cluster.init();
      await cluster.start('inference');
      await cluster.start('builder');
    });
    after(() => cluster.stop());

    it('has its build picked up by a new registry on the same database within seconds (the lease lapses), not an hour', async () => {
      const first = await cluster.start('registry');
      const v = await uploadModel(cluster.client(first), 'killed-registry', [{ path: 'a.txt', content: 'a\n' }, nonce()], { manifest: SLOW(4) });
      await new Promise<void>((resolve, reject) => {
        waitForBuild(cluster.client(first), 'killed-registry', v.version, {
          timeoutMs: 120_000,
          onLog: (line) => line === 'kiln-slow-start' && resolve(),
        }).then(() => reject(new Error('the build ended before the registry was killed')), () => {});
      });
      await first.kill();
      const killedAt = Date.now();
      const second = await cluster.start('registry');
      const { version, log } = await waitForBuild(cluster.client(second), 'killed-registry', v.version, { timeoutMs: 120_000 });
      const seconds = (Date.now() - killedAt) / 1000;
      assert.equal(version.status, RELEASED, version.failureReason);
      assert.ok(log.filter((l) => l === 'kiln-slow-start').length >= 2, `the new registry built it again; log:\n${log.join('\n')}`);
      assert.match(second.output(), /build abandoned by a worker that stopped renewing its lease/);
      // Start (~5 s of bundling) + lease (3 s) + the build again (~4 s sleep + engine): far from pg-boss's expiry.
      assert.ok(seconds < 60, `released ${seconds} s after the kill`);
      console.log(`# released ${seconds.toFixed(1)} s after the registry was killed`);
    });
  });

  describe('a version uploaded while the builder is down', () => {
    const cluster = new Cluster();
    let registry: KilnProcess;
    before(async () => {
      await cluster.init();
      await cluster.start('inference');
      registry = await cluster.start('registry');
    });
    after(() => cluster.stop());

    it('stays BUILDING while its retries meet UNAVAILABLE, and is RELEASED once a builder is up', async () => {
      const client = cluster.client(registry);
      const v = await uploadModel(client, 'builder-down', [{ path: 'a.txt', content: 'a\n' }]);
      const deadline = Date.now() + 30_000;
      while ((registry.output().match(/build failed transiently/g) ?? []).length < 3) {
        assert.ok(Date.now() < deadline, `fewer than 3 attempts in 30 s:\n${registry.output()}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      const waiting = await new Promise<string>((resolve, reject) =>
        client.GetModelVersion({ model: 'builder-down', version: v.version }, (err, res) => (err ? reject(err) : resolve(String(res!.status)))),
      );
      assert.equal(waiting, 'MODEL_VERSION_STATUS_BUILDING');
      await cluster.start('builder');
      const { version } = await waitForBuild(client, 'builder-down', v.version, { timeoutMs: 60_000 });
      assert.equal(version.status, RELEASED, version.failureReason);
    });
  });

  describe('a builder that fails with INTERNAL (a bug that fails the same way every time)', () => {
    let database: TestDatabase;
    let db: Awaited<ReturnType<typeof openDatabase>>;
    let queue: BuildQueue;
    let server: grpc.Server;
    let builder: ReturnType<typeof builderClient>;
    const calls: string[] = [];
    before(async () => {
      database = await freshDatabase();
      const log = createLogger('test', 'silent');
      db = await openDatabase({ url: database.url, embeddedDir: '', poolSize: 4 }, log);
      await migrate(db, MIGRATIONS_DIR, log);
      // A stand-in builder: every build fails INTERNAL, as a builder bug would.
      server = new grpc.Server();
      server.addService(kilnProto().kiln.v1.Builder.service, {
        BuildModelVersion: (call: grpc.ServerWritableStream<{ model: string; version: number }, unknown>) => {
          calls.push(`${call.request.model}:${call.request.version}`);
          call.emit('error', Object.assign(new Error('builder bug'), { code: grpc.status.INTERNAL, details: 'the builder tripped over its own bug' }));
        },
      });
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
      );
      builder = builderClient(`127.0.0.1:${port}`);
      // Quick retries with plenty left: a retry, if there were one, would come within a second or two.
      const settings = { retryLimit: 30, retryDelaySeconds: 1, retryMaxDelaySeconds: 1, leaseSeconds: 3, concurrency: 1 };
      queue = new BuildQueue({ pool: db.pool, builder, events: new VersionEvents(), log, settings });
      await queue.start();
    });
    after(async () => {
      await queue?.stop();
      builder?.close();
      server?.forceShutdown();
      await db?.close();
      await database?.drop();
    });

    it('ends the version FAILED with the builder\'s reason after one attempt, with its job completed', async () => {
      const v = await withTransaction(db.pool, async (tx) => {
        const created = await store.insertVersion(tx, { model: 'builder-bug', files: [], manifest: '', labels: {}, metadata: {}, contract: null, runtime: '' });
        await queue.enqueue(tx, { model: created.model, version: created.version });
        return created;
      });
      const deadline = Date.now() + 30_000;
      let status = 'BUILDING';
      while (status === 'BUILDING') {
        assert.ok(Date.now() < deadline, 'still BUILDING after 30 s');
        await new Promise((r) => setTimeout(r, 200));
        status = (await store.getVersion(db.pool, v.model, v.version))!.status;
      }
      const failed = (await store.getVersion(db.pool, v.model, v.version))!;
      assert.equal(failed.status, 'FAILED');
      assert.match(failed.failureReason, /the builder tripped over its own bug/);
      // Longer than a retry's delay: no second attempt comes.
      await new Promise((r) => setTimeout(r, 3000));
      assert.deepEqual(calls, ['builder-bug:1'], 'the builder was called once');
      const { rows } = await db.pool.query(`SELECT state FROM ${QUEUE_JOBS} WHERE name = 'kiln-build' AND data->>'model' = 'builder-bug'`);
      assert.deepEqual(rows.map((r) => r.state), ['completed']);
    });
  });

  describe('enqueueing a build', () => {
    let database: TestDatabase;
    let db: Awaited<ReturnType<typeof openDatabase>>;
    let queue: BuildQueue;
    const builder = builderClient('127.0.0.1:1');
    before(async () => {
      database = await freshDatabase();
      const log = createLogger('test', 'silent');
      db = await openDatabase({ url: database.url, embeddedDir: '', poolSize: 4 }, log);
      await migrate(db, MIGRATIONS_DIR, log);
      queue = new BuildQueue({ pool: db.pool, builder, events: new VersionEvents(), log, work: false, settings: loadConfig({}).builds });
      await queue.start();
    });
    after(async () => {
      await queue?.stop();
      builder.close();
      await db?.close();
      await database?.drop();
    });
    const jobsOf = async (model: string) =>
      (await db.pool.query(`SELECT count(*)::int AS n FROM ${QUEUE_JOBS} WHERE data->>'model' = $1`, [model])).rows[0].n as number;

    it('leaves no job when the upload\'s transaction rolls back, and one when it commits', async () => {
      await assert.rejects(
        withTransaction(db.pool, async (tx) => {
          await queue.enqueue(tx, { model: 'rolled-back', version: 1 });
          throw new Error('the upload failed after enqueueing');
        }),
        /the upload failed after enqueueing/,
      );
      assert.equal(await jobsOf('rolled-back'), 0);
      await withTransaction(db.pool, (tx) => queue.enqueue(tx, { model: 'committed', version: 1 }));
      assert.equal(await jobsOf('committed'), 1);
    });

    it('gives a version left BUILDING without a job a new one, once; versions with a job or a final status are left alone', async () => {
      const newVersion = (model: string) => ({ model, files: [], manifest: '', labels: {}, metadata: {}, contract: null, runtime: '' });
      // Versions as an upload creates them, one whose job then got lost, one with its job, one already released.
      const lost = await withTransaction(db.pool, (tx) => store.insertVersion(tx, newVersion('job-lost')));
      await withTransaction(db.pool, async (tx) => {
        const v = await store.insertVersion(tx, newVersion('job-kept'));
        await queue.enqueue(tx, { model: v.model, version: v.version });
      });
      const done = await withTransaction(db.pool, (tx) => store.insertVersion(tx, newVersion('job-done')));
      await store.setBuildResult(db.pool, done.model, done.version, { imageReference: 'r', imageDigest: 'sha256:0' });
      // Older than a lease: a version younger than that may still be in its upload's transaction with its job.
      await db.pool.query(`UPDATE model_versions SET create_time = now() - interval '1 hour' WHERE model LIKE 'job-%'`);

      assert.deepEqual(await queue.requeueOrphaned(), [{ model: lost.model, version: lost.version }]);
      assert.equal(await jobsOf('job-lost'), 1, 'the lost version has a job again');
      assert.equal(await jobsOf('job-kept'), 1, 'a version with its job gets no second one');
      assert.equal(await jobsOf('job-done'), 0);
      assert.deepEqual(await queue.requeueOrphaned(), [], 'nothing twice');
    });

    it('throws when pg-boss inserts no job (its queue is gone), so the version is not created without one', async () => {
      const boss = new PgBoss({ db: { executeSql: (text, values) => db.pool.query(text, values) }, schema: 'kiln_queue' });
      await db.pool.query(`DELETE FROM ${QUEUE_JOBS} WHERE name = 'kiln-build'`); // a queue with jobs cannot go
      await boss.deleteQueue('kiln-build');
      await assert.rejects(
        withTransaction(db.pool, (tx) => queue.enqueue(tx, { model: 'no-queue', version: 1 })),
        (err: Error & { code?: string }) => err.code === 'INTERNAL' && /did not take the build/.test(err.message),
      );
    });
  });
}
