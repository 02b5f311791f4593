// Starts the builder service: every version frozen as an OCI image, built daemonless or by a Docker engine.
import path from 'node:path';
import type { KilnConfig } from '@kiln/config';
import type { Logger } from '@kiln/log';
import { kilnProto, registryClient, type RegistryClient } from '@kiln/api';
import { startServer } from '@kiln/api/server';
import { serverAuth, serviceClientOptions } from '@kiln/api/auth/setup';
import { BUILDER_POLICY } from './policy';
import { openBlobStore } from '@kiln/blobstore/open';
import { failedPrecondition, KilnError } from '@kiln/errors';
import { isLoopback, removeTemporaryFiles } from '@kiln/oci';
import { FileLayerCache } from './layer-cache';
import { builderHandlers } from './service';
import type { DockerEngine } from './docker';

export interface BuilderOptions {
  /** Replaces the global fetch for the builder's registry requests made through @kiln/oci's transport (fault
   * injection); a streamed layer PATCH goes over node:http, so tests count uploads in the registry's log instead. */
  fetch?: typeof fetch;
  /** Files over this many bytes get a layer of their own (default: @kiln/oci's 16 MiB); tests use small weights. */
  largeFileThreshold?: number;
}

export async function startBuilder(config: KilnConfig, log: Logger, options: BuilderOptions = {}): Promise<{ address: string; stop(): Promise<void> }> {
  // Decided first: a server that may not start (no authentication on a public address) opens nothing.
  const auth = serverAuth({ settings: config.auth, listen: config.listen.builder, listenSetting: 'KILN_BUILDER_LISTEN', policy: BUILDER_POLICY }, log);
  checkImageSettings(config.images);
  const blobs = await openBlobStore(config.blobs);
  let registry: RegistryClient | undefined;
  // dockerode (with ssh2: a good part of a start, bench/README.md) loads only when an engine is configured.
  const Engine = config.dockerHost ? (await import('./docker')).DockerEngine : undefined;
  let docker: DockerEngine | undefined;
  const handlers = builderHandlers({
    config,
    // Read at the first build, not now: the registry may start after the builder (it needs the builder's address).
    registry: () => (registry ??= registryClient(config.addresses.registry, { ...serviceClientOptions(config.auth), tls: config.tls.client })),
    blobs,
    layerCache: new FileLayerCache(path.join(config.dataDir, 'builder-cache', 'layers.json')),
    docker: () => {
      if (!config.dockerHost || !Engine) throw failedPrecondition('KILN_DOCKER_HOST is not set', 'config');
      return (docker ??= new Engine(config.dockerHost, config.images, options.fetch));
    },
    fetch: options.fetch,
    largeFileThreshold: options.largeFileThreshold,
  });
  if (config.images.sink === 'layout') {
    // Builds killed mid-write leave temp files in the layout (a layer's worth each): gone at start, not at a next write.
    removeTemporaryFiles(config.images.layoutDir).then(
      (removed) => removed && log.info({ removed, layout: config.images.layoutDir }, 'removed the temp files of killed image writes'),
      (err) => log.warn({ err, layout: config.images.layoutDir }, 'could not remove the temp files of killed image writes; the next write tries'),
    );
  }
  const server = await startServer(
    [{ name: 'kiln.v1.Builder', definition: kilnProto().kiln.v1.Builder.service, implementation: handlers,
      // Builds and stored-file contracts read the blob store.
      dependencies: [{ name: 'blob store', check: (signal) => blobs.ping(signal) }] }],
    config.listen.builder,
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

/** Settings no build could succeed with fail the start, not every build. */
export function checkImageSettings(images: KilnConfig['images']): void {
  if (images.sink !== 'registry') return;
  if (!images.registry) throw new KilnError('INVALID_ARGUMENT', 'images go to a registry (KILN_IMAGE_SINK=registry) but none is set', 'KILN_IMAGE_REGISTRY');
  if (images.insecure && !isLoopback(images.registry)) {
    throw new KilnError(
      'INVALID_ARGUMENT',
      `plain HTTP (KILN_IMAGE_REGISTRY_INSECURE) is only allowed for a loopback registry, not ${images.registry}`,
      'KILN_IMAGE_REGISTRY_INSECURE',
    );
  }
}
