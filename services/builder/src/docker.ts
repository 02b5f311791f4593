// The Docker engine build, for versions with an install-command (Hydrosphere's semantics): a generated Dockerfile
// runs the command in the runtime image with the model's files copied to /model; the context tar is streamed from
// the blob store, every build line is streamed out, and the engine tags and pushes the image.
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import type { BlobStore } from '@kiln/blobstore';
import type { KilnConfig } from '@kiln/config';
import { KilnError } from '@kiln/errors';
import { canonicalJson, parseReference, pullImage, reproducibleTar, FILE_MODE, type TarFile } from '@kiln/oci';
import { LineSplitter, type BuildLog } from './build-log';
import { modelFiles, pullBase, type BuiltImage } from './daemonless';
import { BASE_DIGEST_LABEL, CONTRACT_FILE, INPUTS_LABEL, type BuildPlan } from './plan';
import { imageDestination, Transports } from './targets';

/** Lines of the build log a failure message carries. */
export const FAILURE_TAIL_LINES = 20;

export interface DockerfileSpec {
  base: string;
  installCommand: string;
  labels: Record<string, string>;
  /** A comment line naming what is built. */
  comment?: string;
}

/**
 * The Dockerfile for a build. The install command runs through `/bin/sh -c` in exec form, so that any text (quotes,
 * newlines, `$`) reaches the shell as written; labels come last so that the layers above are cached across versions
 * with the same files and command.
 */
export function renderDockerfile(spec: DockerfileSpec): string {
  const lines = [
    ...(spec.comment ? [`# ${spec.comment.replace(/\r?\n/g, ' ')}`] : []),
    `FROM ${spec.base}`,
    'COPY model/ /model/',
    'WORKDIR /model',
    `RUN ${JSON.stringify(['/bin/sh', '-c', spec.installCommand])}`,
  ];
  const labels = Object.keys(spec.labels).sort();
  if (labels.length) {
    lines.push(`LABEL ${labels.map((k) => `${dockerfileQuote(k)}=${dockerfileQuote(spec.labels[k])}`).join(' \\\n      ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A Dockerfile double-quoted word: inside quotes the builder treats `\` as an escape before `"`, `\` and `$` (and
 * expands `$` otherwise), so those three are escaped. Newlines cannot appear in a word: they become `\n` text.
 */
export function dockerfileQuote(value: string): string {
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`).replace(/\r?\n/g, '\\n')}"`;
}

/** One JSON message of the engine's build or push stream. */
export interface EngineMessage {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string; Tag?: string; Digest?: string; Size?: number };
}

/** Reads the engine's JSON-lines stream, calling `onMessage` for each message; resolves when the stream ends. */
export async function readEngineStream(stream: NodeJS.ReadableStream, onMessage: (m: EngineMessage) => void): Promise<void> {
  const lines = new LineSplitter();
  const handle = (line: string) => {
    if (!line.trim()) return;
    let m: EngineMessage;
    try {
      m = JSON.parse(line) as EngineMessage;
    } catch {
      m = { stream: `${line}\n` };
    }
    onMessage(m);
  };
  for await (const chunk of stream) for (const line of lines.push(chunk.toString())) handle(line);
  for (const line of lines.flush()) handle(line);
}

export class DockerEngine {
  readonly docker: Docker;
  private readonly transports: Transports;

  constructor(readonly host: string, private readonly images: KilnConfig['images'], fetchImpl?: typeof fetch) {
    this.docker = new Docker(dockerOptions(host));
    this.transports = new Transports(images, fetchImpl);
  }

  async build(plan: BuildPlan, blobs: BlobStore, log: BuildLog, signal: AbortSignal): Promise<BuiltImage> {
    const target = plan.target;
    if (target.kind !== 'registry' || !plan.base || !plan.installCommand) {
      throw new KilnError('INTERNAL', 'a Docker build needs a registry target, a base and an install-command', plan.model);
    }
    // A version's image is built once: an image under its tag carrying the same inputs label is that build.
    const destination = imageDestination(target, this.transports);
    const existing = await destination.current();
    if (existing) {
      const pushed = await pullImage(parseReference(`${target.registry}/${target.repository}@${existing}`), {
        transport: this.transports.get(target.registry),
      }).catch(() => null);
      if (pushed?.config.config?.Labels?.[INPUTS_LABEL] === plan.inputsDigest) {
        log.line(`${target.reference} already is ${existing}, built from the same inputs: nothing to build`);
        return { imageReference: target.reference, imageDigest: existing };
      }
    }

    await this.ping();
    // The base pinned to the manifest its tag names now (linux/amd64, as the daemonless path resolves it): the build
    // runs on the image its base.digest label names.
    const baseRef = parseReference(plan.base);
    const base = await pullBase(plan.base, this.transports, log);
    const dockerfile = renderDockerfile({
      base: `${baseRef.registry}/${baseRef.repository}@${base.digest}`,
      installCommand: plan.installCommand,
      labels: { ...plan.labels, [BASE_DIGEST_LABEL]: base.digest },
      comment: `Generated by Kiln for ${plan.model} version ${plan.version}.`,
    });

    const context = reproducibleTar(buildContext(plan, dockerfile, blobs, signal));
    const auth = this.authFor(target.registry);
    const baseRegistry = baseRef.registry;
    const registryconfig: Docker.RegistryConfig = {};
    for (const r of new Set([baseRegistry, target.registry])) {
      const a = this.authFor(r);
      if (a.username) registryconfig[r] = { username: a.username, password: a.password ?? '' };
    }
    const buildStream = await this.engineCall('build', () =>
      // pull: the runtime tag is looked up on every build, as the daemonless path does, not taken from the engine's copy.
      this.docker.buildImage(context, { t: target.reference, pull: true, rm: true, forcerm: true, registryconfig, abortSignal: signal }),
    );
    let imageId: string | undefined;
    let failure: string | undefined;
    const stepLines = new LineSplitter();
    await readEngineStream(buildStream, (m) => {
      if (m.stream) for (const line of stepLines.push(m.stream)) log.line(line);
      if (m.status) log.line(`${m.id ? `${m.id}: ` : ''}${m.status}${m.progress ? ` ${m.progress}` : ''}`);
      if (m.aux?.ID) imageId = m.aux.ID;
      if (m.error || m.errorDetail) failure = m.errorDetail?.message ?? m.error;
    });
    for (const line of stepLines.flush()) log.line(line);
    if (failure) {
      log.line(`build failed: ${failure}`);
      throw buildFailed(`the Docker build failed: ${failure}`, log);
    }
    signal.throwIfAborted();
    log.line(`built image ${imageId ?? '(id not reported)'}; pushing ${target.reference}`);

    const pushStream = await this.engineCall('push', () =>
      this.docker.getImage(target.reference).push({ tag: target.tag, authconfig: auth.username ? auth : {}, abortSignal: signal } as Docker.ImagePushOptions),
    );
    let digest: string | undefined;
    let pushFailure: string | undefined;
    const seen = new Map<string, string>();
    await readEngineStream(pushStream, (m) => {
      // Progress updates repeat per layer many times a second: only changes of status are log lines.
      if (m.status && !m.progress && seen.get(m.id ?? '') !== m.status) {
        seen.set(m.id ?? '', m.status);
        log.line(`push: ${m.id ? `${m.id}: ` : ''}${m.status}`);
      }
      if (m.aux?.Digest) digest = m.aux.Digest;
      if (m.error || m.errorDetail) pushFailure = m.errorDetail?.message ?? m.error;
    });
    if (pushFailure) {
      const code = /connection refused|no such host|timeout|503|502/i.test(pushFailure) ? 'UNAVAILABLE' : 'FAILED_PRECONDITION';
      throw new KilnError(code, `the Docker engine could not push ${target.reference}: ${pushFailure}`, plan.model);
    }
    if (!digest) throw new KilnError('INTERNAL', `the Docker engine pushed ${target.reference} without reporting its digest`, plan.model);
    log.line(`pushed ${target.reference} ${digest}`);
    // The image is in the registry now: the engine keeps only the build cache (noprune: the classic builder's
    // intermediate images are that cache), not one more copy of every version. Failing to remove it fails nothing.
    await this.docker.getImage(target.reference).remove({ noprune: true }).then(
      () => log.line(`removed ${target.reference} from the engine (its build cache kept)`),
      (err: Error) => log.line(`could not remove ${target.reference} from the engine: ${err.message}`),
    );
    return { imageReference: target.reference, imageDigest: digest };
  }

  private authFor(registry: string): { username?: string; password?: string; serveraddress: string } {
    return this.images.registry === registry && this.images.username
      ? { username: this.images.username, password: this.images.password ?? '', serveraddress: registry }
      : { serveraddress: registry };
  }

  private async ping(): Promise<void> {
    await this.engineCall('ping', () => this.docker.ping());
  }

  /** Calls the engine; an engine that cannot be reached is UNAVAILABLE (the registry's queue retries those). */
  private async engineCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof KilnError) throw err;
      const e = err as NodeJS.ErrnoException & { statusCode?: number; json?: { message?: string } };
      const message = e.json?.message ?? e.message;
      if (e.name === 'AbortError') throw new KilnError('CANCELLED', `the build was cancelled during ${what}`, this.host);
      if (!e.statusCode || e.statusCode >= 500) {
        throw new KilnError('UNAVAILABLE', `the Docker engine at ${this.host} did not answer ${what}: ${message}`, this.host, { cause: err });
      }
      throw new KilnError('FAILED_PRECONDITION', `the Docker engine refused ${what}: ${message}`, this.host, { cause: err });
    }
  }
}

/** The context: the Dockerfile, and the model's files (plus Kiln's contract.json) under model/. */
export function buildContext(plan: BuildPlan, dockerfile: string, blobs: BlobStore, signal?: AbortSignal): TarFile[] {
  const content = (text: string): Pick<TarFile, 'size' | 'open'> => {
    const bytes = Buffer.from(text);
    return { size: bytes.length, open: () => Readable.from([bytes]) };
  };
  return [
    { name: 'Dockerfile', mode: FILE_MODE, ...content(dockerfile) },
    ...(plan.writeContractFile ? [{ name: `model/${CONTRACT_FILE}`, mode: FILE_MODE, ...content(`${canonicalJson(plan.contract)}\n`) }] : []),
    ...modelFiles(plan, blobs, signal).map((f) => ({
      name: `model/${f.path}`,
      size: f.size,
      mode: f.executable ? 0o755 : FILE_MODE,
      sha256: f.sha256,
      open: () => f.open(),
    })),
  ];
}

/** dockerode options for `unix:///path/docker.sock` or `tcp://host:port` (also `http://`). */
export function dockerOptions(host: string): Docker.DockerOptions {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const m = /^(?:tcp|http):\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(host);
  if (!m) throw new KilnError('FAILED_PRECONDITION', `KILN_DOCKER_HOST must be unix:///path or tcp://host:port, not ${host}`, 'config');
  return { host: m[1], port: Number(m[2]), protocol: 'http' };
}

function buildFailed(reason: string, log: BuildLog): KilnError {
  const tail = log.lastLines().slice(-FAILURE_TAIL_LINES);
  return new KilnError('FAILED_PRECONDITION', `${reason}\nlast ${tail.length} log lines:\n${tail.join('\n')}`);
}
