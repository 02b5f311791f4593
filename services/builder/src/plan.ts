// What to build for a version, as plain data: its files, base image, install command, labels and where the image
// goes. Pure: no network, no clock, so the rules are unit-tested without servers.
import { createHash } from 'node:crypto';
import type { KilnConfig } from '@kiln/config';
import { failedPrecondition, invalidArgument, KilnError } from '@kiln/errors';
import { canonicalJson, checkRepository, checkTag, modelLabels } from '@kiln/oci';
import { parseManifest } from '@kiln/manifest';
import { byPath } from '@kiln/std';
import { splitModelName } from '@kiln/api/model-names';

/** The parts of a kiln.v1.ModelVersion a build reads. */
export interface VersionToBuild {
  model: string;
  version: number;
  status: string;
  files: Array<{ path: string; size: number; sha256: string; executable: boolean }>;
  manifest: string;
  runtime: string;
  contract: unknown;
  /** Free-form metadata (upload header, manifest): where the model's source and revision come from, if anywhere. */
  metadata?: Record<string, string>;
}

export type Engine = 'daemonless' | 'docker';

export interface BuildPlan {
  model: string;
  version: number;
  engine: Engine;
  files: VersionToBuild['files'];
  /** The runtime image with its registry made explicit, or null for a model-only (scratch) image. */
  base: string | null;
  installCommand: string | null;
  /** The contract as stored by the registry, or null. */
  contract: unknown;
  /** Whether /model/contract.json is Kiln's (false when the model ships a file of that name itself). */
  writeContractFile: boolean;
  /** Labels on the image config, ours on top of the defaults from @kiln/oci. */
  labels: Record<string, string>;
  /** A digest of everything the build reads, kept as a label: an image carrying it was built from these inputs. */
  inputsDigest: string;
  target: ImageTarget;
}

export type ImageTarget =
  | { kind: 'layout'; dir: string; refName: string; reference: string }
  | {
    kind: 'registry';
    registry: string;
    repository: string;
    tag: string;
    reference: string;
    /** The repository of the registry's layer index (shared by every builder of this installation). */
    layerIndex: string;
  };

export const CONTRACT_FILE = 'contract.json';
export const INPUTS_LABEL = 'ai.kiln.build.inputs';
export const BASE_DIGEST_LABEL = 'org.opencontainers.image.base.digest';

/** Metadata keys that name the model's source and revision, first found wins (Hydrosphere's CLI wrote `git.*`). */
const SOURCE_KEYS = ['source', 'git.url', 'git.remote.url', 'git.repository'];
const REVISION_KEYS = ['revision', 'git.commit', 'git.branch.head.sha', 'git.sha'];

/** Plans the build of one version; throws FAILED_PRECONDITION for a version that cannot be built as configured. */
export function planBuild(v: VersionToBuild, config: Pick<KilnConfig, 'images' | 'dockerHost'>): BuildPlan {
  const where = `${v.model} version ${v.version}`;
  if (v.status === 'MODEL_VERSION_STATUS_DELETED') throw failedPrecondition('the version is deleted', where);
  let installCommand: string | null = null;
  if (v.manifest) {
    try {
      installCommand = parseManifest(v.manifest, 'manifest').installCommand;
    } catch (err) {
      throw new KilnError('FAILED_PRECONDITION', `its manifest does not parse: ${(err as Error).message}`, where);
    }
  }
  const engine: Engine = installCommand ? 'docker' : 'daemonless';
  const base = v.runtime ? resolveImageReference(v.runtime, config.images.registry) : null;
  if (engine === 'docker') {
    if (!base) throw failedPrecondition('an install-command needs a runtime image to run in', `${where} manifest`);
    if (!config.dockerHost) {
      throw failedPrecondition('its manifest has an install-command, which runs in a Docker engine, and KILN_DOCKER_HOST is not set', where);
    }
    if (config.images.sink !== 'registry') {
      throw failedPrecondition('an install-command build is pushed by the Docker engine and needs a registry sink (KILN_IMAGE_REGISTRY)', where);
    }
  }
  const files = [...v.files].sort(byPath);
  const writeContractFile = v.contract != null && !files.some((f) => f.path === CONTRACT_FILE);
  const inputsDigest = `sha256:${createHash('sha256')
    .update(canonicalJson({ files, base, installCommand, contract: v.contract ?? null, engine }))
    .digest('hex')}`;
  const labels: Record<string, string> = {
    ...modelLabels({
      name: v.model,
      version: v.version,
      contract: v.contract ?? undefined,
      source: firstOf(v.metadata, SOURCE_KEYS),
      revision: firstOf(v.metadata, REVISION_KEYS),
    }),
    ...(base ? { 'org.opencontainers.image.base.name': base } : {}),
    [INPUTS_LABEL]: inputsDigest,
  };
  return {
    model: v.model,
    version: v.version,
    engine,
    files,
    base,
    installCommand,
    contract: v.contract ?? null,
    writeContractFile,
    labels,
    inputsDigest,
    target: imageTarget(v.model, v.version, config.images),
  };
}

/** Where the image of `model` version `version` goes, and the reference the version records: the repository is
 * `<prefix>/<namespace>/<name>`, the default namespace's included, so no model's repository is another's prefix. */
export function imageTarget(model: string, version: number, images: KilnConfig['images']): ImageTarget {
  return taggedTarget(model, checkTag(String(version)), images);
}

/** A valid OCI tag (the Distribution spec's grammar). */
const OCI_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Checks an alias's tag: a valid OCI tag, and not all digits (those name versions: `:3` is version 3's image). */
export function checkAliasTag(tag: string, location: string): string {
  if (!tag) throw invalidArgument('the tag is empty', location);
  if (!OCI_TAG.test(tag)) {
    throw invalidArgument(`tag ${JSON.stringify(tag)} is not a valid OCI tag: up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -`, location);
  }
  if (/^[0-9]+$/.test(tag)) throw invalidArgument(`tag ${JSON.stringify(tag)} is all digits: those tags are versions' own`, location);
  return tag;
}

/** Where an alias's tag of `model` goes: the model's image repository, tagged `tag` (see imageTarget). */
export function aliasTarget(model: string, tag: string, images: KilnConfig['images']): ImageTarget {
  return taggedTarget(model, checkAliasTag(tag, 'tag'), images);
}

function taggedTarget(model: string, tag: string, images: KilnConfig['images']): ImageTarget {
  const { namespace, name } = splitModelName(model);
  const path = `${namespace}/${name}`;
  const repository = checkRepository(images.prefix ? `${images.prefix}/${path}` : path, 'image repository');
  if (images.sink === 'layout') {
    const refName = `${repository}:${tag}`;
    // skopeo's transport syntax: `skopeo copy oci:<dir>:<ref> docker://...` reads it back.
    return { kind: 'layout', dir: images.layoutDir, refName, reference: `oci:${images.layoutDir}:${refName}` };
  }
  if (!images.registry) throw failedPrecondition('KILN_IMAGE_SINK is registry and KILN_IMAGE_REGISTRY is not set', 'config');
  // Never a model's: the `kiln` namespace is reserved (@kiln/api/model-names).
  const layerIndex = checkRepository(images.prefix ? `${images.prefix}/kiln/layers` : 'kiln/layers', 'layer index repository');
  return { kind: 'registry', registry: images.registry, repository, tag, reference: `${images.registry}/${repository}:${tag}`, layerIndex };
}

function firstOf(metadata: Record<string, string> | undefined, keys: string[]): string | undefined {
  return keys.map((k) => metadata?.[k]?.trim()).find((v) => v);
}

/**
 * Makes a runtime reference's registry explicit. As Docker reads references, the first path segment is a registry
 * host when it has a '.' or a ':' or is `localhost`; otherwise the image is looked up in the configured registry
 * (Kiln never guesses Docker Hub).
 */
export function resolveImageReference(ref: string, defaultRegistry: string | undefined): string {
  const slash = ref.indexOf('/');
  const first = slash > 0 ? ref.slice(0, slash) : '';
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost')) return ref;
  if (!defaultRegistry) {
    throw failedPrecondition(`runtime image ${ref} names no registry, and KILN_IMAGE_REGISTRY is not set to look it up in`, 'runtime');
  }
  return `${defaultRegistry}/${ref}`;
}
