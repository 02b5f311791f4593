// Starts the registry service: database and migrations, blob store, build queue, and the gRPC server.
import type { KilnConfig } from '@kiln/config';
import type { Logger } from '@kiln/log';
import { builderClient, fromGrpcError, inferenceClient, kilnProto, type InferenceClient, type KilnClientOptions } from '@kiln/api';
import { promiseClient, type CallOptions, type InferencePromiseClient } from '@kiln/api/client';
import { KilnError } from '@kiln/errors';
import { startServer } from '@kiln/api/server';
import { openBlobStore } from '@kiln/blobstore/open';
import { contractFromMessage } from '@kiln/api/contract';
import type { ModelVersion } from '@kiln/api/generated/kiln/v1/ModelVersion';
import type { Encoded } from '@kiln/api/encoded';
import { registryHandlers } from './service';
import { BuildQueue } from './builds';
import { openRegistryDatabase } from './database';
import { VersionEvents } from './events';
import { EventTail } from './event-log';
import { retryPendingTags, type AliasDeps } from './aliases';
import { VersionCache } from './version-cache';
import { WebhookDispatcher } from './webhook-dispatcher';
import { parseAllowList } from './webhooks';
import { startSweeping } from './gc';
import { PostgresStore, postgresClientOf } from './store/postgres';
import { PostgresTokenStore } from './store/postgres/tokens';
import { ApiTokenVerifier, bootstrapAdminToken } from './tokens';
import { REGISTRY_POLICY } from './policy';
import { auditTrail } from './audit';
import { serverAuth, serviceClientOptions } from '@kiln/api/auth/setup';
import { oidcVerifier } from '@kiln/api/auth/oidc';

export { MIGRATIONS_DIR } from './database';

/** How long a call waits for inference to be reachable (its channel retrying the connection) before UNAVAILABLE. */
const INFERENCE_CONNECT_MS = 3000;
/** How long a call to the builder to move an alias's tag may take (a manifest GET and PUT). */
const TAG_TIMEOUT_MS = 30_000;
/** How often a replica looks for events other replicas committed (its own wake its watchers at once). */
const EVENT_POLL_MS = 250;
/** Attempts of one inference call that fail UNAVAILABLE (inference restarting, a replica going away). */
const INFERENCE_ATTEMPTS = 3;

/**
 * The registry's calls to the inference service: each waits a few seconds at most for a connection, has a deadline
 * (KILN_INFERENCE_TIMEOUT_MS) so a hung inference cannot hang uploads, and is retried a bounded number of times
 * when UNAVAILABLE.
 */
class InferenceCaller {
  readonly client: InferenceClient;

  constructor(
    private readonly address: string,
    private readonly timeoutMs: number,
    private readonly log: Logger,
    options: KilnClientOptions,
  ) {
    // Reconnect attempts at most 2 s apart (grpc's default backs off to 2 minutes): after an outage, inference is
    // reachable again within a call's connect wait.
    this.client = inferenceClient(address, { 'grpc.max_reconnect_backoff_ms': 2000, ...options });
  }

  /** Resolves once inference can be reached; UNAVAILABLE when it cannot within INFERENCE_CONNECT_MS. */
  reachable(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.waitForReady(Date.now() + INFERENCE_CONNECT_MS, (err) =>
        err
          ? reject(new KilnError('UNAVAILABLE', `the inference service at ${this.address} cannot be reached (${err.message}); try again later`))
          : resolve(),
      ),
    );
  }

  async call<T>(what: string, send: (client: InferencePromiseClient, options: CallOptions) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.reachable();
        return await send(promiseClient(this.client), { deadline: Date.now() + this.timeoutMs });
      } catch (err) {
        const failure = fromGrpcError(err, what);
        if (failure.code !== 'UNAVAILABLE' || attempt >= INFERENCE_ATTEMPTS) throw failure;
        this.log.warn({ err: failure.message, attempt }, `${what} unavailable; retrying`);
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
  }
}

export interface RunningService {
  address: string;
  stop(): Promise<void>;
}

export async function startRegistry(config: KilnConfig, log: Logger): Promise<RunningService & { queueDepth(): Promise<number> }> {
  // Decided first: a server that may not start (no authentication on a public address) opens nothing.
  let apiTokens: ApiTokenVerifier | undefined;
  const oidc = oidcVerifier(config.oidc);
  const auth = serverAuth({
    settings: config.auth,
    listen: config.listen.registry,
    listenSetting: 'KILN_REGISTRY_LISTEN',
    policy: REGISTRY_POLICY,
    // API tokens first: theirs are told apart by their prefix at no cost; any JWT is then OIDC's to judge.
    verifiers: [{ verify: (token, peer) => apiTokens!.verify(token, peer) }, ...(oidc ? [oidc] : [])],
    oidc: Boolean(oidc),
  }, log);
  const webhookAllowList = parseAllowList(config.webhooks.allowedHosts);
  const db = await openRegistryDatabase(config.database, log);
  const tokens = new PostgresTokenStore(db.pool);
  apiTokens = new ApiTokenVerifier(tokens, log);
  if (config.auth.adminToken) await bootstrapAdminToken(tokens, config.auth.adminToken, log);
  const blobs = await openBlobStore(config.blobs);
  const services = { ...serviceClientOptions(config.auth), tls: config.tls.client };
  const inference = new InferenceCaller(config.addresses.inference, config.inferenceTimeoutMs, log, services);
  const builder = builderClient(config.addresses.builder, services);
  const events = new VersionEvents();
  const queue = new BuildQueue({ pool: db.pool, builder, events, log, settings: config.builds });
  await queue.start();

  const store = new PostgresStore(db.pool);
  const uploadLeaseMs = config.uploads.leaseSeconds * 1000;
  const cache = new VersionCache<Encoded<ModelVersion>>(20_000, log, !db.embedded);
  if (!db.embedded) await cache.listen(db.url);
  const eventTail = new EventTail(store, EVENT_POLL_MS, log);
  await eventTail.start();
  events.onAny(() => eventTail.advanced());
  const builderCalls = promiseClient(builder);
  const aliasDeps: AliasDeps = {
    store, cache, log, events,
    moveTag: (a) => builderCalls.TagModelVersion(
      { model: a.model, version: a.version, tag: a.alias, imageReference: a.imageReference, imageDigest: a.imageDigest },
      { deadline: Date.now() + TAG_TIMEOUT_MS },
    ).then(() => undefined, (err) => { throw fromGrpcError(err, 'moving the alias\'s image tag'); }),
    removeTag: (a) => builderCalls.UntagModelVersion(
      { model: a.model, tag: a.alias, imageDigest: a.imageDigest }, { deadline: Date.now() + TAG_TIMEOUT_MS },
    ).then(() => undefined, (err) => { throw fromGrpcError(err, 'removing the alias\'s image tag'); }),
  };
  const webhooks = new WebhookDispatcher({ store, tail: eventTail, log: log.child({ component: 'webhooks' }), settings: config.webhooks, allowList: webhookAllowList });
  webhooks.start();
  const sweeps = startSweeping({ store, blobs }, log, { uploadLeaseMs, retryTags: () => retryPendingTags(aliasDeps) });

  const handlers = registryHandlers({
    cache,
    store,
    tokens,
    blobs,
    limits: config.limits,
    uploadLeaseMs,
    log,
    events,
    eventTail,
    webhookAllowList,
    moveTag: aliasDeps.moveTag,
    removeTag: aliasDeps.removeTag,
    watchPollMs: 1000,
    readBlob: (digest) => blobs.read(digest),
    inferenceReachable: () => inference.reachable(),
    inferContract: (files, manifest) =>
      inference.call('contract inference', (client, options) => client.InferContract({ storedFiles: { files }, manifest }, options))
        .then((res) => ({ contract: contractFromMessage(res.contract, 'inference response contract'), metadata: res.metadata })),
    onVersionCreated: async (tx, version) => {
      await queue.enqueue(postgresClientOf(tx), { model: version.model, version: version.version });
    },
  });
  const dependencies = [
    { name: 'postgres', check: () => db.pool.query('SELECT 1').then(() => undefined) },
    { name: 'blob store', check: (signal: AbortSignal) => blobs.ping(signal) },
  ];
  const server = await startServer(
    [{ name: 'kiln.v1.Registry', definition: kilnProto().kiln.v1.Registry.service, implementation: handlers, dependencies }],
    config.listen.registry,
    log,
    // The audit trail first: it records what authentication and authorization refuse.
    { health: config.health, tls: config.tls.server, interceptors: [auditTrail(store, log), ...auth.interceptors], guardReflection: auth.guardReflection },
  );
  return {
    address: server.address,
    queueDepth: () => queue.depth(),
    async stop() {
      await server.shutdown(config.shutdownGraceMs);
      await queue.stop();
      await webhooks.stop();
      await sweeps.stop();
      eventTail.stop();
      await cache.stop();
      await apiTokens!.stop();
      inference.client.close();
      builder.close();
      await db.close();
    },
  };
}
