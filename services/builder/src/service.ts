// The kiln.v1.Builder gRPC handler: reads the version from the registry, plans the build, runs it on the daemonless
// path or the Docker engine, and streams its log lines, ending with the result; and points alias tags at a version's
// image (and removes them) in the configured sink.
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
import { failedPrecondition, invalidArgument, KilnError } from '@kiln/errors';
import { canonicalModelName } from '@kiln/api/model-names';
import { assertDigest, parseReference, type LayerCache } from '@kiln/oci';
import { BuildLog } from './build-log';
import { buildDaemonless, type BuiltImage } from './daemonless';
import type { DockerEngine } from './docker';
import { aliasTarget, checkAliasTag, imageTarget, planBuild, type ImageTarget } from './plan';
import { imageDestination, Transports } from './targets';

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

    // An alias moved: its tag names the version's image now, in the registry (a manifest PUT) or the OCI layout.
    async TagModelVersion(request, context) {
      const at = (field: string) => `TagModelVersionRequest.${field}`;
      const model = canonicalModelName(request.model, at('model'));
      const { version, tag, imageReference, imageDigest } = request;
      if (!(version > 0)) throw invalidArgument(`version must be >= 1, got ${version}`, at('version'));
      checkAliasTag(tag, at('tag'));
      if (!imageDigest) throw invalidArgument('image_digest is required', at('image_digest'));
      assertDigest(imageDigest, at('image_digest'));
      if (!imageReference) throw invalidArgument('image_reference is required', at('image_reference'));
      const versionTarget = imageTarget(model, version, deps.config.images);
      checkVersionImage(versionTarget, imageReference, imageDigest, `${model} version ${version}`, at('image_reference'));
      const target = aliasTarget(model, tag, deps.config.images);
      if (versionTarget.kind === 'layout') {
        // One blob folder holds every model's images: the digest must be this version's own (its ref names it).
        const named = await imageDestination(versionTarget, transports).current();
        if (named !== imageDigest) {
          throw failedPrecondition(`${versionTarget.refName} names ${named ?? 'no image'} in the OCI layout, not ${imageDigest}`, at('image_digest'));
        }
      }
      const result = await imageDestination(target, transports).tag(imageDigest);
      context.logger.info({ model, version, tag, image: target.reference, digest: imageDigest, changed: result.changed }, result.changed ? 'tag moved' : 'tag already there');
      return { imageReference: target.reference, imageDigest: result.digest };
    },

    // An alias deleted: its tag goes from an OCI layout; a registry keeps it (see the proto).
    async UntagModelVersion(request, context) {
      const at = (field: string) => `UntagModelVersionRequest.${field}`;
      const model = canonicalModelName(request.model, at('model'));
      const { tag, imageDigest } = request;
      checkAliasTag(tag, at('tag'));
      if (imageDigest) assertDigest(imageDigest, at('image_digest'));
      const target = aliasTarget(model, tag, deps.config.images);
      const result = await imageDestination(target, transports).untag(imageDigest || undefined);
      context.logger.info({ model, tag, image: target.reference, removed: result.removed }, result.removed ? 'tag removed' : 'tag kept');
      return { imageReference: target.reference, removed: result.removed, detail: result.detail ?? '' };
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

/**
 * Refuses an image reference that is not the version's image in the repository this builder builds the model into
 * (`<registry>/<prefix>/<namespace>/<name>:<version>`, or `@<digest>`; `oci:<dir>:<repo>:<version>` for a layout):
 * a caller never tags another repository. FAILED_PRECONDITION: a reference made under another configuration
 * (registry or prefix since changed) is well formed, and still not this builder's to tag.
 */
function checkVersionImage(target: ImageTarget, imageReference: string, imageDigest: string, what: string, location: string): void {
  if (imageReference === target.reference) return;
  if (target.kind === 'registry') {
    let parsed;
    try {
      parsed = parseReference(imageReference);
    } catch (err) {
      throw invalidArgument(`image_reference ${JSON.stringify(imageReference)} is not an image reference: ${(err as Error).message}`, location);
    }
    if (parsed.registry === target.registry && parsed.repository === target.repository && parsed.reference === imageDigest) return;
  }
  throw failedPrecondition(`image_reference ${imageReference} is not ${what}'s image as this builder builds it (${target.reference})`, location);
}

async function getVersion(registry: RegistryClient, model: string, version: number, signal: AbortSignal): Promise<ModelVersion__Output> {
  try {
    return await promiseClient(registry).GetModelVersion({ model, version }, { signal });
  } catch (err) {
    throw fromGrpcError(err, 'registry GetModelVersion');
  }
}

