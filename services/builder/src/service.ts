// The kiln.v1.Builder gRPC handler: reads the version from the registry, plans the build, runs it on the daemonless
// path or the Docker engine, and streams its log lines, ending with the result.
import type { BuilderImplementation } from '@kiln/api/handlers';
import type { HandlerContext } from '@kiln/api/context';
import { MessageQueue } from '@kiln/api/message-queue';
import type { BuildModelVersionResponse } from '@kiln/api/generated/kiln/v1/BuildModelVersionResponse';
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import { toTimestamp } from '@kiln/api/timestamp';
import { fromGrpcError, type RegistryClient } from '@kiln/api';
import { promiseClient } from '@kiln/api/client';
import type { BlobStore } from '@kiln/blobstore';
import type { KilnConfig } from '@kiln/config';
import { invalidArgument, KilnError } from '@kiln/errors';
import type { LayerCache } from '@kiln/oci';
import { BuildLog } from './build-log';
import { buildDaemonless, type BuiltImage } from './daemonless';
import type { DockerEngine } from './docker';
import { planBuild } from './plan';
import { Transports } from './targets';

export interface BuilderDeps {
  config: Pick<KilnConfig, 'images' | 'dockerHost'>;
  /** The registry client, made on first use: the registry's address may be known only after the builder started. */
  registry: () => RegistryClient;
  blobs: BlobStore;
  layerCache?: LayerCache;
  /** The Docker engine, made on first use (only versions with an install-command need one). */
  docker: () => DockerEngine;
  largeFileThreshold?: number;
  /** Replaces the global fetch for registry requests made through @kiln/oci's transport (see index.ts). */
  fetch?: typeof fetch;
}

export function builderHandlers(deps: BuilderDeps): BuilderImplementation {
  const transports = new Transports(deps.config.images, deps.fetch);
  return {
    // The build's log lines as it writes them, then its result. A failure is thrown: the server sends it as the
    // stream's status, with its code.
    async *BuildModelVersion(request, context) {
      const { model, version } = request;
      if (!model) throw invalidArgument('model is required', 'BuildModelVersionRequest.model');
      if (!(version > 0)) throw invalidArgument(`version must be >= 1, got ${version}`, 'BuildModelVersionRequest.version');
      const responses = new MessageQueue<BuildModelVersionResponse>();
      build(model, version, context, (line, number) => responses.push({ log: { line, number } })).then(
        (result) => {
          responses.push({ result });
          responses.end();
        },
        (error: unknown) => responses.end({ error }),
      );
      yield* responses;
    },
  };

  /** Builds the version; the context's signal (the registry went away, or this server is stopping) stops it. */
  async function build(
    model: string,
    version: number,
    context: HandlerContext,
    onLine: (line: string, number: number) => void,
  ): Promise<NonNullable<BuildModelVersionResponse['result']>> {
    const { signal, logger: log } = context;
    const startTime = new Date();
    const buildLog = new BuildLog((line, number) => {
      if (!signal.aborted) onLine(line, number);
    }, log);
    const v = await getVersion(deps.registry(), model, version, signal);
    const plan = planBuild({ ...v, status: String(v.status) }, deps.config);
    log.info({ engine: plan.engine, files: plan.files.length, base: plan.base, target: plan.target.reference }, 'build started');
    buildLog.line(`building ${model} version ${version}: ${plan.files.length} files, ${plan.engine} build, to ${plan.target.reference}`);

    let built: BuiltImage;
    try {
      built = plan.engine === 'docker'
        ? await deps.docker().build(plan, deps.blobs, buildLog, signal)
        : await buildDaemonless(plan, { blobs: deps.blobs, transports, layerCache: deps.layerCache, largeFileThreshold: deps.largeFileThreshold }, buildLog, signal);
    } catch (err) {
      if (signal.aborted) throw new KilnError('CANCELLED', 'the build was cancelled', `${model} version ${version}`);
      throw err;
    }
    const endTime = new Date();
    buildLog.line(`built ${built.imageReference} ${built.imageDigest} in ${endTime.getTime() - startTime.getTime()} ms`);
    log.info({ image: built.imageReference, digest: built.imageDigest, ms: endTime.getTime() - startTime.getTime() }, 'build done');
    return { imageReference: built.imageReference, imageDigest: built.imageDigest, startTime: toTimestamp(startTime), endTime: toTimestamp(endTime) };
  }
}

async function getVersion(registry: RegistryClient, model: string, version: number, signal: AbortSignal): Promise<ModelVersion__Output> {
  try {
    return await promiseClient(registry).GetModelVersion({ model, version }, { signal });
  } catch (err) {
    throw fromGrpcError(err, 'registry GetModelVersion');
  }
}

