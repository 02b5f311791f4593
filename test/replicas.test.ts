// End to end: two of each service as separate real processes on one Postgres database and one blob prefix, HAProxy
// (gRPC over h2c, a grpc.health.v1 check every 500 ms) in front of the registries, and the services calling one
// another round robin over address lists. 50 versions queued at once are built exactly once each, on both
// builders; a builder killed with SIGKILL mid-build has the build finished by the other; events and aliases agree
// across replicas within a second; a registry killed with SIGKILL under 20 clients loses nothing.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { grpc, registryClient, type KilnClientOptions, type RegistryClient } from '@kiln/api';
import { promiseClient } from '@kiln/api/client';
import type { RegistryEvent__Output } from '@kiln/api/generated/kiln/v1/RegistryEvent';
import { FILE_MODE, reproducibleTar } from '@kiln/oci';
import { Readable } from 'node:stream';
import { startKilnProcess, type KilnProcess } from './helpers/kiln-process';
import { startHaproxy, type Haproxy } from './helpers/haproxy';
import { uploadModel, waitForBuild, type UploadFile } from './helpers/services';
import { emptyS3Prefix, freePort, freshDatabase, type TestDatabase } from './helpers/test-config';

const run = promisify(execFile);
const VARS = ['KILN_TEST_DATABASE_URL', 'KILN_TEST_S3_ENDPOINT', 'KILN_TEST_REGISTRY', 'KILN_TEST_DOCKER_HOST', 'KILN_TEST_BASE_IMAGE'] as const;
const missing = VARS.filter((v) => !process.env[v]);
const RELEASED = 'MODEL_VERSION_STATUS_RELEASED';
/** Short leases and retries, so that the test sees in seconds what production does in tens of seconds. */
const LEASE_SECONDS = 3;
const UPLOAD_LEASE_SECONDS = 4;
const FAST = {
  KILN_BUILD_LEASE_SECONDS: String(LEASE_SECONDS),
  KILN_BUILD_RETRY_DELAY_SECONDS: '1',
  KILN_BUILD_RETRY_MAX_DELAY_SECONDS: '2',
  KILN_BUILD_RETRY_LIMIT: '30',
  KILN_UPLOAD_LEASE_SECONDS: String(UPLOAD_LEASE_SECONDS),
};

type Service = 'registry' | 'builder' | 'inference';
const SERVICES: Service[] = ['registry', 'builder', 'inference'];

/** An HTTP proxy in front of the image registry that counts the requests the builders make (method and path). */
async function countingProxy(target: string): Promise<{ address: string; requests: string[]; close(): Promise<void> }> {
  const [host, port] = target.split(':');
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url!.split('?')[0]}`);
    const upstream = http.request({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port: own } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${own}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The JSON log lines of a log file with this message, as model:version keys and their times. */
async function loggedAt(file: string, msg: string): Promise<Array<{ key: string; time: number }>> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      const entry = JSON.parse(line) as { msg?: string; model?: string; version?: number; time?: number };
      return entry.msg === msg ? [{ key: `${entry.model}:${entry.version}`, time: Number(entry.time) }] : [];
    } catch {
      return [];
    }
  });
}
const logged = async (file: string, msg: string) => (await loggedAt(file, msg)).map((e) => e.key);
const countBy = (keys: string[]) => keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two of each service, each its own process, and HAProxy in front of the registries. */
class Replicas {
  readonly runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  readonly s3Prefix = `replicas/${this.runId}/`;
  readonly imagePrefix = `kiln-replicas-${this.runId}`;
  readonly clients: RegistryClient[] = [];
  readonly procs: Record<Service, Array<KilnProcess | undefined>> = { registry: [], builder: [], inference: [] };
  readonly logs: Record<Service, string[]> = { registry: [], builder: [], inference: [] };
  ports!: Record<Service, number[]>;
  db!: TestDatabase;
  lb!: Haproxy;
  images!: Awaited<ReturnType<typeof countingProxy>>;
  logDir!: string;

  async start(env: Record<string, string>): Promise<void> {
    this.db = await freshDatabase();
    this.logDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-replicas-'));
    this.images = await countingProxy(env.KILN_TEST_REGISTRY);
    const ports = await Promise.all(Array.from({ length: 6 }, freePort));
    this.ports = { registry: ports.slice(0, 2), builder: ports.slice(2, 4), inference: ports.slice(4, 6) };
    // Inference and builders at once; then the registries one after the other (the first migrates).
    await Promise.all([0, 1].flatMap((i) => [this.startOne('inference', i, env), this.startOne('builder', i, env)]));
    await this.startOne('registry', 0, env);
    await this.startOne('registry', 1, env);
    this.lb = await startHaproxy({ servers: this.ports.registry.map((p) => `127.0.0.1:${p}`), healthService: 'kiln.v1.Registry' });
  }

  list(service: Service): string {
    return this.ports[service].map((p) => `127.0.0.1:${p}`).join(',');
  }

  async startOne(service: Service, i: number, env: Record<string, string>): Promise<KilnProcess> {
    const logFile = path.join(this.logDir, `${service}-${i}.log`);
    this.logs[service][i] = logFile;
    const proc = await startKilnProcess({
      script: `services/${service}/src/main.ts`,
      services: [`kiln.v1.${service[0].toUpperCase()}${service.slice(1)}`],
      databaseUrl: this.db.url,
      s3Prefix: this.s3Prefix,
      ports: { [service]: this.ports[service][i] },
      logFile,
      env: {
        ...FAST,
        KILN_LOG_LEVEL: service === 'inference' ? 'warn' : 'info',
        KILN_BUILD_CONCURRENCY: '2',
        // The services reach one another round robin over the replicas' addresses (libs/api's balancing).
        KILN_REGISTRY_ADDRESS: this.list('registry'),
        KILN_BUILDER_ADDRESS: this.list('builder'),
        KILN_INFERENCE_ADDRESS: this.list('inference'),
        KILN_DOCKER_HOST: env.KILN_TEST_DOCKER_HOST,
        KILN_IMAGE_REGISTRY: this.images.address,
        KILN_IMAGE_REGISTRY_INSECURE: 'true',
        KILN_IMAGE_PREFIX: this.imagePrefix,
      },
    });
    this.procs[service][i] = proc;
    return proc;
  }

  client(address = this.lb.address, options: KilnClientOptions = {}): RegistryClient {
    const client = registryClient(address, options);
    this.clients.push(client);
    return client;
  }

  registry(i: number): string {
    return `127.0.0.1:${this.ports.registry[i]}`;
  }

  async stop(env: Record<string, string>): Promise<void> {
    for (const c of this.clients) c.close();
    await this.lb?.stop();
    const errors: unknown[] = [];
    await Promise.all(SERVICES.flatMap((s) => this.procs[s].map((p) => p?.stop().catch((err) => errors.push(err)))));
    await this.images?.close();
    await this.db?.drop();
    await emptyS3Prefix(this.s3Prefix);
    if (this.logDir) await fs.rm(this.logDir, { recursive: true, force: true });
    const { stdout } = await run('docker', ['-H', env.KILN_TEST_DOCKER_HOST, 'images', '--format', '{{.Repository}}:{{.Tag}}']).catch(() => ({ stdout: '' }));
    const mine = stdout.split('\n').filter((r) => r.includes(`/${this.imagePrefix}/`));
    if (mine.length) await run('docker', ['-H', env.KILN_TEST_DOCKER_HOST, 'rmi', '-f', ...mine]).catch(() => {});
    if (errors.length) throw errors[0];
  }
}

/** Runs `fn` over `items`, `n` at a time. */
async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

/** A WatchModels call collecting its events with the time each arrived. */
function watchModels(client: RegistryClient, request: Record<string, unknown>) {
  const events: Array<{ at: number; event: RegistryEvent__Output }> = [];
  const call = client.WatchModels(request);
  call.on('data', (event: RegistryEvent__Output) => events.push({ at: Date.now(), event }));
  call.on('error', () => {});
  return {
    events,
    async next(pred: (e: RegistryEvent__Output) => boolean, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find((e) => pred(e.event));
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no matching event in ${timeoutMs} ms: ${JSON.stringify(events.map((e) => [e.event.kind, e.event.model, e.event.version]))}`);
        await sleep(5);
      }
    },
    cancel: () => call.cancel(),
  };
}

if (missing.length) {
  it('the replica tests need the servers of scripts/test-env', () => {
    assert.fail(`${missing.join(', ')} not set: run through scripts/test, or eval "$(bash scripts/test-env start)" first`);
  });
} else {
  const env = Object.fromEntries(VARS.map((v) => [v, process.env[v]!])) as Record<(typeof VARS)[number], string>;
  // In every Docker build's files: the engine's layer cache outlives test runs, and a cached RUN prints nothing.
  const nonce = (): UploadFile => ({ path: 'nonce.txt', content: `${process.pid}-${Date.now()}-${randomBytes(4).toString('hex')}\n` });
  const SLOW = (seconds: number) => `runtime: ${env.KILN_TEST_BASE_IMAGE}\ninstall-command: "echo kiln-slow-start; sleep ${seconds}; echo kiln-slow-done"\n`;

  describe('two of each service behind HAProxy and round robin', () => {
    const cluster = new Replicas();
    let admin: pg.Client;
    before(async () => {
      await cluster.start(env);
      admin = new pg.Client({ connectionString: cluster.db.url });
      await admin.connect();
    });
    after(async () => {
      await admin?.end();
      await cluster.stop(env);
    });

    it('S1: builds 50 versions queued at once exactly once each (one manifest PUT and one build per version), on both builders', async () => {
      const client = cluster.client();
      const items = Array.from({ length: 50 }, (_, i) => ({ model: `s1/m${i % 5}`, i }));
      // Uploaded through the load balancer, ten at a time; each model's versions are numbered in commit order.
      const versions = await pool(items, 10, ({ model, i }) =>
        uploadModel(client, model, [{ path: 'weights.bin', content: `s1 ${i} ${randomBytes(8).toString('hex')}\n` }]).then((v) => ({ model, version: Number(v.version) })));
      const finals = await pool(versions, 25, ({ model, version }) => waitForBuild(client, model, version, { timeoutMs: 240_000 }));
      for (const [i, { version }] of finals.entries()) assert.equal(version.status, RELEASED, `${versions[i].model}:${versions[i].version}: ${version.failureReason}`);

      const expected = Object.fromEntries(versions.map(({ model, version }) => [`${model}:${version}`, 1]));
      const perBuilder = await Promise.all(cluster.logs.builder.map((f) => logged(f, 'build started')));
      assert.deepEqual(Object.fromEntries(countBy(perBuilder.flat())), expected, 'one build started per version, across both builders');
      // Manifests are PUT by tag (<prefix>/<model>/manifests/<version>): one per version, none twice.
      const manifestPuts = countBy(cluster.images.requests.filter((r) => r.startsWith('PUT ') && r.includes(`/${cluster.imagePrefix}/`) && r.includes('/manifests/')));
      assert.equal(manifestPuts.size, 50, `manifest PUTs: ${JSON.stringify(Object.fromEntries(manifestPuts))}`);
      assert.deepEqual([...new Set(manifestPuts.values())], [1], 'no image pushed twice');
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM build_leases`);
      assert.equal(rows[0].n, 0, 'no build lease left');
      console.log(`# builds per builder: ${perBuilder.map((b) => b.length).join(' + ')}; per registry: ${(await Promise.all(cluster.logs.registry.map((f) => logged(f, 'build started')))).map((r) => r.length).join(' + ')}`);
      assert.ok(perBuilder.every((b) => b.length > 0), 'both builders built');
    });

    it('S2: a builder killed with SIGKILL mid-build: the other builder finishes it, nothing BUILDING past the lease', async () => {
      const client = cluster.client();
      const v = await uploadModel(client, 's2/killed-builder', [{ path: 'a.txt', content: 'a\n' }, nonce()], { manifest: SLOW(4) });
      const key = `s2/killed-builder:${v.version}`;
      let killed: Promise<{ index: number; at: number }> | undefined;
      const { version, log } = await waitForBuild(client, 's2/killed-builder', Number(v.version), {
        timeoutMs: 180_000,
        onLog: (line) => {
          if (line !== 'kiln-slow-start' || killed) return;
          killed = (async () => {
            const started = await Promise.all(cluster.logs.builder.map((f) => logged(f, 'build started')));
            const index = started.findIndex((keys) => keys.includes(key));
            assert.ok(index >= 0, 'a builder logged the build');
            await cluster.procs.builder[index]!.kill();
            return { index, at: Date.now() };
          })();
        },
      });
      assert.ok(killed, 'a builder was killed mid-build');
      const { index, at } = await killed;
      const releasedAfter = (Date.now() - at) / 1000;
      assert.equal(version.status, RELEASED, version.failureReason);
      const starts = log.flatMap((l, i) => (l === 'kiln-slow-start' ? [i] : []));
      assert.ok(starts.length >= 2, `the build ran again after the kill; log:\n${log.join('\n')}`);
      assert.ok(!log.slice(0, starts[1]).includes('kiln-slow-done'), 'killed before the first attempt\'s command ended');
      const other = (await loggedAt(cluster.logs.builder[1 - index], 'build started')).find((e) => e.key === key);
      assert.ok(other, 'the other builder built it');
      // The registry's call failed UNAVAILABLE at the kill and was retried at once, round robin, on the live
      // builder: within the lease, not after it.
      const retriedAfter = other.time - at;
      assert.ok(retriedAfter < LEASE_SECONDS * 1000, `the other builder started ${retriedAfter} ms after the kill`);
      // Nothing is left BUILDING, nor holding a lease: the retry came at once (UNAVAILABLE), not after the lease.
      const { rows } = await admin.query(`SELECT model, version FROM model_versions WHERE status = 'BUILDING'`);
      assert.deepEqual(rows, []);
      assert.equal((await admin.query(`SELECT count(*)::int AS n FROM build_leases`)).rows[0].n, 0);
      console.log(`# builder ${index} killed; the other started the build ${retriedAfter} ms later and released it ${releasedAfter.toFixed(1)} s after the kill (the build's command sleeps 4 s)`);
      // The builder comes back on its address for the tests after this one.
      await cluster.startOne('builder', index, env);
    });

    it('S5: a change made on one registry reaches a watch and alias reads on the other within a second', async () => {
      const a = cluster.client(cluster.registry(0));
      const b = cluster.client(cluster.registry(1));
      const [apiA, apiB] = [promiseClient(a), promiseClient(b)];
      const model = 's1/m0';
      const watch = watchModels(a, { model });
      await sleep(500); // the watch has started
      const lags: Record<string, number> = {};

      let t0 = Date.now();
      await apiB.SetModelAlias({ model, alias: 'production', version: 1 });
      const set = await watch.next((e) => e.kind === 'EVENT_KIND_ALIAS_SET' && e.alias === 'production');
      lags.aliasSet = set.at - t0;

      // A read by alias on A follows a move on B.
      t0 = Date.now();
      await apiB.SetModelAlias({ model, alias: 'production', version: 2 });
      const moved = await watch.next((e) => e.kind === 'EVENT_KIND_ALIAS_MOVED' && Number(e.version) === 2);
      lags.aliasMoved = moved.at - t0;
      for (;;) {
        const got = await apiA.GetModelVersion({ model, alias: 'production' });
        if (Number(got.version) === 2) break;
        assert.ok(Date.now() - t0 < 1000, `replica A still reads production as ${got.version}`);
        await sleep(10);
      }
      lags.aliasRead = Date.now() - t0;

      t0 = Date.now();
      const created = await uploadModel(b, model, [{ path: 'weights.bin', content: `s5 ${randomBytes(8).toString('hex')}` }]);
      const seen = await watch.next((e) => e.kind === 'EVENT_KIND_VERSION_CREATED' && Number(e.version) === Number(created.version));
      lags.versionCreated = seen.at - t0; // the upload's own time included: an upper bound

      // Resumed on B from A's last token: the next event on A's side, once, nothing before it again.
      const last = watch.events.at(-1)!.event;
      const seenBefore = new Set(watch.events.map((e) => e.event.resumeToken));
      const resumed = watchModels(b, { model, resumeToken: last.resumeToken });
      await apiA.SetModelAlias({ model, alias: 'staging', version: 1 });
      const staging = await resumed.next((e) => e.kind === 'EVENT_KIND_ALIAS_SET' && e.alias === 'staging');
      await sleep(300);
      const tokens = resumed.events.map((e) => e.event.resumeToken);
      assert.equal(new Set(tokens).size, tokens.length, 'no event twice');
      assert.ok(tokens.every((t) => !seenBefore.has(t)), 'nothing up to the token again');
      assert.equal(tokens[0], staging.event.resumeToken, 'the first event after the token is the next change');
      watch.cancel();
      resumed.cancel();
      await waitForBuild(a, model, Number(created.version), { timeoutMs: 120_000 });
      console.log(`# replica B -> A: ${Object.entries(lags).map(([k, ms]) => `${k} ${ms} ms`).join(', ')}`);
      for (const [k, ms] of Object.entries(lags)) assert.ok(ms < 1000, `${k}: ${ms} ms`);
    });

    it('S3: a registry killed with SIGKILL under 20 clients: in-flight uploads fail UNAVAILABLE and succeed on retry, reads fail no longer than a health check interval, no version lost or half-made', async () => {
      const reads = await promiseClient(cluster.client()).ListModelVersions({ model: 's1/m1' });
      const readable = reads.versions.map((v) => Number(v.version));
      assert.ok(readable.length >= 5);
      let stopAt = Infinity;
      const UNAVAILABLE = grpc.status.UNAVAILABLE;

      // 10 uploaders of 2 MiB each, sent in 16 pieces 60 ms apart, so that some are in flight at the kill. Most of
      // each is past grpc-js's 256 KiB retry buffer: a stream HAProxy refuses before that is resent by grpc-js itself.
      const uploads: Array<{ model: string; content: string; version: number; failures: number[] }> = [];
      const uploader = async (u: number) => {
        // No transparent retries: an upload the kill cuts reaches this client as the failure S3 is about, whatever
        // part of it was sent (grpc-js resends, by itself, a stream refused while its first 256 KiB are buffered).
        const client = cluster.client(undefined, { 'grpc.enable_retries': 0 });
        for (let n = 0; Date.now() < stopAt; n++) {
          const model = `s3/u${u}`;
          const content = `s3 ${u} ${n} ${randomBytes(1024 * 1024).toString('hex')}\n`;
          const record = { model, content, version: 0, failures: [] as number[] };
          for (;;) {
            try {
              record.version = Number((await pacedUpload(client, model, content)).version);
              break;
            } catch (err) {
              record.failures.push((err as { code?: number }).code ?? -1);
              if (record.failures.length > 20) throw err;
              await sleep(100);
            }
          }
          uploads.push(record);
        }
      };
      // 10 readers: GetModelVersion in a loop; each failure run's length is measured to the next success.
      type FailureRun = { reader: number; from: number; last: number; to: number; codes: number[]; messages: Set<string> };
      const readFailures: FailureRun[] = [];
      let readsDone = 0;
      const reader = async (r: number) => {
        const api = promiseClient(cluster.client());
        let run: FailureRun | undefined;
        while (Date.now() < stopAt || run) {
          try {
            await api.GetModelVersion({ model: 's1/m1', version: readable[readsDone % readable.length] }, { deadline: Date.now() + 5000 });
            readsDone++;
            if (run) {
              run.to = Date.now();
              readFailures.push(run);
              run = undefined;
            }
          } catch (err) {
            run ??= { reader: r, from: Date.now(), last: 0, to: 0, codes: [], messages: new Set() };
            run.codes.push((err as { code?: number }).code ?? -1);
            run.last = Date.now();
            run.messages.add((err as Error).message);
            await sleep(10);
          }
        }
      };
      const clients = [...Array.from({ length: 10 }, (_, u) => uploader(u)), ...Array.from({ length: 10 }, (_, r) => reader(r))];
      // The kill comes once the clients have run for 2 s and the replica has at least 4 calls in flight (uploads,
      // mostly: a read takes milliseconds).
      await sleep(2000);
      const killDeadline = Date.now() + 10_000;
      while ((await cluster.lb.inFlight())[cluster.registry(0)] < 4 && Date.now() < killDeadline) await sleep(20);
      await cluster.procs.registry[0]!.kill();
      const killedAt = Date.now();
      await cluster.lb.waitFor(cluster.registry(0), 'DOWN', 10_000);
      const downAfter = Date.now() - killedAt;
      stopAt = Date.now() + 3000;
      await Promise.all(clients);

      const failed = uploads.filter((u) => u.failures.length);
      const codes = [...new Set(failed.flatMap((u) => u.failures))].map((c) => grpc.status[c]);
      const readMessages = [...new Set(readFailures.flatMap((f) => [...f.messages]))];
      console.log(`# ${uploads.length} uploads, ${failed.length} failed at first (${codes.join(', ')}) and succeeded on retry; ${readsDone} reads, ` +
        `${readFailures.reduce((n, f) => n + f.codes.length, 0)} failed in ${readFailures.length} runs, the longest ${Math.max(0, ...readFailures.map((f) => f.last - f.from))} ms ` +
        `(${readMessages.join('; ')}); HAProxy marked the registry DOWN ${downAfter} ms after the kill`);
      assert.ok(failed.length >= 1, `some uploads were in flight at the kill; HAProxy's log:\n${cluster.lb.output().split('\n').filter((l) => l.includes('UploadModel')).join('\n')}`);
      assert.deepEqual(codes, ['UNAVAILABLE'], 'in-flight uploads fail UNAVAILABLE');
      // A read fails only when it was on the killed replica at the kill: UNAVAILABLE, or INTERNAL when the replica
      // had begun its answer (HAProxy then resets the stream, which grpc-js reads as a call without a status). The
      // next read, 10 ms later, goes to a live replica (HAProxy retries reads that got no answer).
      for (const f of readFailures) {
        assert.ok(f.last - f.from <= cluster.lb.checkIntervalMs, `reader ${f.reader} failed for ${f.last - f.from} ms (${[...f.messages].join('; ')})`);
        assert.ok(f.codes.every((c) => c === UNAVAILABLE || c === grpc.status.INTERNAL), `reads fail UNAVAILABLE, got ${[...f.messages].join('; ')}`);
        assert.ok([...f.messages].every((m) => !m.startsWith('13') || m.includes('RST_STREAM')), [...f.messages].join('; '));
      }

      // No version lost or half-made: every upload that succeeded is there with its bytes, released; every version
      // of these models (one committed just before its answer was lost included) is complete.
      const api = promiseClient(cluster.client());
      for (const u of uploads) {
        const { version } = await waitForBuild(cluster.clients.at(-1)!, u.model, u.version, { timeoutMs: 120_000 });
        assert.equal(version.status, RELEASED, `${u.model}:${u.version}: ${version.failureReason}`);
        const chunks: Buffer[] = [];
        for await (const r of api.DownloadModelVersion({ model: u.model, version: u.version })) chunks.push(Buffer.from(r.chunk));
        assert.ok(Buffer.concat(chunks).includes(u.content), `${u.model}:${u.version} downloads its bytes`);
      }
      const { rows } = await admin.query(`SELECT v.model, v.version, v.status, count(f.*)::int AS files FROM model_versions v LEFT JOIN version_files f USING (model, version) WHERE v.model LIKE 's3/%' GROUP BY 1, 2, 3`);
      assert.equal(rows.length >= uploads.length, true);
      for (const row of rows) {
        assert.equal(row.files, 1, `${row.model}:${row.version} has its file`);
        if (row.status === 'BUILDING') await waitForBuild(cluster.clients.at(-1)!, row.model, row.version, { timeoutMs: 60_000 });
      }
      // What the killed registry's uploads staged is swept by the survivor once their leases lapse.
      const deadline = Date.now() + UPLOAD_LEASE_SECONDS * 3000 + 10_000;
      let left = -1;
      while (Date.now() < deadline) {
        const r = await admin.query(`SELECT (SELECT count(*) FROM upload_leases)::int + (SELECT count(*) FROM staged_objects)::int + (SELECT count(*) FROM pending_blobs)::int AS n`);
        left = r.rows[0].n;
        if (left === 0) break;
        await sleep(500);
      }
      assert.equal(left, 0, 'the killed registry\'s upload leftovers are swept');
    });
  });

  /** An upload whose tar goes in sixteen pieces 60 ms apart (an upload in flight long enough to meet a kill). */
  async function pacedUpload(client: RegistryClient, model: string, content: string) {
    const chunks: Buffer[] = [];
    const bytes = Buffer.from(content);
    for await (const c of reproducibleTar([{ name: 'weights.bin', size: bytes.length, mode: FILE_MODE, open: () => Readable.from([bytes]) }])) chunks.push(Buffer.from(c));
    const tar = Buffer.concat(chunks);
    const piece = Math.ceil(tar.length / 16);
    return promiseClient(client).UploadModel((async function* () {
      yield { header: { model, manifest: '', labels: {}, format: 'ARCHIVE_FORMAT_TAR' as const } };
      for (let i = 0; i < 16; i++) {
        yield { chunk: tar.subarray(i * piece, (i + 1) * piece) };
        await sleep(60);
      }
    })());
  }
}
