// Starts the inference service: contract inference over gRPC, reading the shared blob store.
import type { KilnConfig } from '@kiln/config';
import type { Logger } from '@kiln/log';
import { kilnProto, registryClient, type RegistryClient } from '@kiln/api';
import { startServer } from '@kiln/api/server';
import { serverAuth, serviceClientOptions } from '@kiln/api/auth/setup';
import { INFERENCE_POLICY } from './policy';
import { openBlobStore } from '@kiln/blobstore/open';
import { inferenceHandlers } from './service';

export async function startInference(config: KilnConfig, log: Logger): Promise<{ address: string; stop(): Promise<void> }> {
  // Decided first: a server that may not start (no authentication on a public address) opens nothing.
  const auth = serverAuth({ settings: config.auth, listen: config.listen.inference, listenSetting: 'KILN_INFERENCE_LISTEN', policy: INFERENCE_POLICY }, log);
  const blobs = await openBlobStore(config.blobs);
  let registry: RegistryClient | undefined;
  const handlers = inferenceHandlers({
    blobs,
    registry: () => (registry ??= registryClient(config.addresses.registry, { ...serviceClientOptions(config.auth), tls: config.tls.client })),
    limits: config.limits,
    log,
    pathRoots: config.inferencePathRoots,
  });
  const server = await startServer(
    [{ name: 'kiln.v1.Inference', definition: kilnProto().kiln.v1.Inference.service, implementation: handlers,
      // Builds and stored-file contracts read the blob store.
      dependencies: [{ name: 'blob store', check: (signal) => blobs.ping(signal) }] }],
    config.listen.inference,
    log,
    { health: config.health, tls: config.tls.server, interceptors: auth.interceptors, guardReflection: auth.guardReflection },
  );
  return {
    address: server.address,
    async stop() {
      await server.shutdown(config.shutdownGraceMs);
      registry?.close();
    },
  };
}
