// `npm run image`: Kiln's own OCI image (the three services, the CLI, nothing else) on a Node 20 base, written by
// libs/oci like the model images the builder makes: sorted tar entries, mtime 0, fixed owners and modes, no
// timestamps in the config, so one commit gives one digest on any machine with the same base.
//
//   npm run image -- [--base REF | --base oci:DIR[:REF] | --base host-node] [--base-insecure]
//                    [--output oci:DIR[:TAG] | --push HOST/REPO:TAG [--insecure] | --load NAME:TAG]
//
// --base        a Node 20 runtime: a registry reference (default docker.io's node:20-bookworm-slim), an OCI layout, or
//               host-node (this machine's node and its libraries: scripts/image/host-base.ts, for machines that
//               cannot pull)
// --output      an OCI image layout (default oci:.kiln/image:kiln); --push a registry (KILN_IMAGE_REGISTRY_USERNAME
//               and KILN_IMAGE_REGISTRY_PASSWORD when it asks); --load the Docker engine of `docker` (DOCKER_HOST),
//               through `docker load`
// Prints one JSON line: the image digest, where it went, the base's digest.
import { execFile, spawn } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import {
  dockerArchive,
  imageFromConfig,
  layerFromFiles,
  ociLayoutSink,
  parseReference,
  pullImage,
  readOciLayout,
  registrySink,
  tarDirectory,
  type Image,
  type ImageConfigFile,
  type TarFile,
} from '@kiln/oci';
import { APP_ROOT, appFiles } from './bundle';
import { hostNodeBase } from './host-base';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The base for users. Pin it by digest (`...@sha256:...`) in production: a tag moves. */
export const DEFAULT_BASE = 'registry-1.docker.io/library/node:20-bookworm-slim';
/** The image's user: numeric, so that no passwd entry is needed (distroless's nonroot). */
export const IMAGE_USER = '65532:65532';
export const DATA_DIR = '/var/lib/kiln';
const ENTRYPOINT = ['/usr/local/bin/node', `/${APP_ROOT}/app/entrypoint.mjs`];
const SECOND = 1_000_000_000; // Healthcheck durations are in nanoseconds

/** What the image sets, over the base's Env (the README's settings for a container). */
export const IMAGE_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072',
  KILN_DATA_DIR: DATA_DIR,
  KILN_REGISTRY_LISTEN: '0.0.0.0:50051',
  KILN_BUILDER_LISTEN: '0.0.0.0:50052',
  KILN_INFERENCE_LISTEN: '0.0.0.0:50053',
  KILN_REGISTRY_METRICS_LISTEN: '0.0.0.0:9451',
  KILN_BUILDER_METRICS_LISTEN: '0.0.0.0:9452',
  KILN_INFERENCE_METRICS_LISTEN: '0.0.0.0:9453',
};

export interface BuildOptions {
  base: string;
  baseInsecure?: boolean;
  /** Where the bundle is built (default: a fresh temp folder). */
  workDir?: string;
}

export interface BuiltImage {
  image: Image;
  baseDigest: string;
  baseName: string;
  /** Removes the bundle the image's layers stream from: call it once the image is written. */
  dispose(): Promise<void>;
}

async function git(args: string[]): Promise<string | undefined> {
  return run('git', args, { cwd: ROOT }).then((r) => r.stdout.trim() || undefined, () => undefined);
}

async function loadBase(base: string, insecure?: boolean): Promise<Image> {
  if (base === 'host-node') return (await hostNodeBase(ROOT)).image;
  if (base.startsWith('oci:')) {
    const [dir, ref] = splitLayout(base);
    return readOciLayout(dir, ref);
  }
  return pullImage(base, { insecure });
}

/** oci:DIR[:REF] */
function splitLayout(spec: string): [string, string | undefined] {
  const rest = spec.slice('oci:'.length);
  const colon = rest.lastIndexOf(':');
  return colon > 0 && !rest.slice(colon).includes('/') ? [rest.slice(0, colon), rest.slice(colon + 1)] : [rest, undefined];
}

/** `kiln` and `kiln-server` on PATH, for `docker exec` (their shebang: the base's /usr/local/bin/node). */
function binScript(name: 'kiln' | 'kiln-server'): TarFile {
  const args = [ENTRYPOINT[1], ...(name === 'kiln' ? ['kiln'] : [])].map((a) => JSON.stringify(a)).join(', ');
  const bytes = Buffer.from(`#!/usr/local/bin/node\n// ${name} in Kiln's image.\nprocess.argv.splice(1, 1, ${args});\nimport(${JSON.stringify(ENTRYPOINT[1])});\n`);
  return { name: `usr/local/bin/${name}`, size: bytes.length, mode: 0o755, open: () => Readable.from([bytes]) };
}

export async function buildKilnImage(options: BuildOptions): Promise<BuiltImage> {
  const base = await loadBase(options.base, options.baseInsecure);
  const workDir = options.workDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-image-')));
  const dispose = async () => {
    if (!options.workDir) await fs.rm(workDir, { recursive: true, force: true });
  };
  try {
    const { app, packages } = await appFiles(ROOT, path.join(workDir, 'bundle'));
    const bins = [binScript('kiln'), binScript('kiln-server')];
    const packagesLayer = await layerFromFiles(packages);
    const appLayer = await layerFromFiles([
      ...app,
      ...bins,
      // The data folder (embedded database, local blobs, an OCI layout) is the user's, and a volume.
      tarDirectory(DATA_DIR.slice(1), 0o755, { uid: 65532, gid: 65532 }),
    ]);

    const version = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')).version as string;
    const revision = await git(['rev-parse', 'HEAD']);
    const source = process.env.KILN_IMAGE_SOURCE ?? (await git(['config', '--get', 'remote.origin.url']));
    const baseName = options.base;
    const { created: _created, ...baseConfig } = structuredClone(base.config);
    const env = new Map((baseConfig.config?.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e] as const));
    for (const [k, v] of Object.entries(IMAGE_ENV)) env.set(k, `${k}=${v}`);
    const config: ImageConfigFile = {
      ...baseConfig,
      config: {
        ...(baseConfig.config ?? {}),
        User: IMAGE_USER,
        Env: [...env.values()],
        Entrypoint: ENTRYPOINT,
        // No argument: the entrypoint runs $KILN_SERVICE, else all three (`docker run IMAGE registry` picks one).
        Cmd: null,
        WorkingDir: `/${APP_ROOT}`,
        ExposedPorts: Object.fromEntries(['50051', '50052', '50053', '9451', '9452', '9453'].map((p) => [`${p}/tcp`, {}])),
        Volumes: { [DATA_DIR]: {} },
        StopSignal: 'SIGTERM',
        // Docker's extension of the image config (OCI has none): grpc.health.v1 of every service the container runs.
        Healthcheck: { Test: ['CMD', ...ENTRYPOINT, 'health'], Interval: 5 * SECOND, Timeout: 5 * SECOND, StartPeriod: 60 * SECOND, Retries: 3 },
        Labels: {
          ...(baseConfig.config?.Labels ?? {}),
          'org.opencontainers.image.title': 'kiln',
          'org.opencontainers.image.description': 'Kiln: registry, builder and inference services and the kiln CLI',
          'org.opencontainers.image.version': version,
          ...(source ? { 'org.opencontainers.image.source': source } : {}),
          ...(revision ? { 'org.opencontainers.image.revision': revision } : {}),
          'org.opencontainers.image.base.name': baseName,
          'org.opencontainers.image.base.digest': base.digest,
        },
      },
      rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, packagesLayer.diffID, appLayer.diffID] },
      history: [
        ...(baseConfig.history ?? []),
        { created_by: 'kiln: npm packages the bundle cannot hold (scripts/image/bundle.ts)' },
        { created_by: 'kiln: the services, the CLI and the health check, bundled (npm run image)' },
      ],
    };
    const image = imageFromConfig(config, [...base.layers, packagesLayer, appLayer]);
    return { image, baseDigest: base.digest, baseName, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** Writes the image where `output` says: `oci:DIR[:TAG]` or a registry reference (`push`). */
export async function writeKilnImage(image: Image, target: { output?: string; push?: string; insecure?: boolean; load?: string }): Promise<string> {
  if (target.load) {
    const child = spawn('docker', ['load', '--quiet'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number>((resolve, reject) => child.on('error', reject).on('exit', (code) => resolve(code ?? 1)));
    let said = '';
    child.stdout.on('data', (c: Buffer) => (said += c));
    await pipeline(dockerArchive(image, [target.load]), child.stdin);
    const code = await exited;
    if (code !== 0) throw new Error(`docker load exited with ${code}`);
    if (!said.includes(target.load)) throw new Error(`docker load said: ${said.trim()}`);
    return `docker:${target.load}`;
  }
  if (target.push) {
    const ref = parseReference(target.push);
    const username = process.env.KILN_IMAGE_REGISTRY_USERNAME;
    const password = process.env.KILN_IMAGE_REGISTRY_PASSWORD;
    const sink = registrySink({
      registry: ref.registry,
      repository: ref.repository,
      insecure: target.insecure,
      ...(username && password ? { credentials: { username, password } } : {}),
    });
    await sink.write(image, ref.reference);
    return target.push;
  }
  const [dir, tag] = splitLayout(target.output ?? 'oci:.kiln/image:kiln');
  await ociLayoutSink(path.resolve(dir)).write(image, tag ?? 'kiln');
  return `oci:${path.resolve(dir)}:${tag ?? 'kiln'}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      base: { type: 'string', default: DEFAULT_BASE },
      'base-insecure': { type: 'boolean', default: false },
      output: { type: 'string' },
      push: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      load: { type: 'string' },
    },
  });
  if ([values.output, values.push, values.load].filter(Boolean).length > 1) throw new Error('one of --output, --push and --load');
  if ((await git(['status', '--porcelain', '--untracked-files=no'])) !== undefined) {
    process.stderr.write('image: the working tree has uncommitted changes: the revision label names HEAD, the files are the tree\'s\n');
  }
  const t0 = Date.now();
  const { image, baseDigest, dispose } = await buildKilnImage({ base: values.base!, baseInsecure: values['base-insecure'] });
  const where = await writeKilnImage(image, { output: values.output, push: values.push, insecure: values.insecure, load: values.load }).finally(dispose);
  const size = image.manifest.layers.reduce((n, l) => n + l.size, 0);
  process.stdout.write(`${JSON.stringify({ digest: image.digest, image: where, base: values.base, baseDigest, bytes: size, ms: Date.now() - t0 })}\n`);
}
