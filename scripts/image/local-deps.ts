// Images of Kiln's dependencies (PostgreSQL, MinIO, a Distribution registry, curl for the bucket) made from this
// machine's own binaries (the Debian packages and the MinIO build scripts/test-env installs) with the shared
// libraries they load and busybox for a shell, for machines that cannot pull the official ones: the compose test,
// air-gapped hosts. Each behaves as deploy/compose/compose.yaml expects of the official image it stands for.
//
//   npx tsx scripts/image/local-deps.ts [--load]   builds them (cached in node_modules/.cache/kiln/local-deps) and,
//                                                   with --load, loads kiln-local/{postgres,minio,registry,curl} into
//                                                   the Docker engine of `docker` (DOCKER_HOST)
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  dockerArchive,
  imageFromConfig,
  layerFromFiles,
  ociLayoutSink,
  readOciLayout,
  tarDirectory,
  tarSymlink,
  EXEC_MODE,
  FILE_MODE,
  type Image,
  type ImageConfigFile,
  type TarFile,
} from '@kiln/oci';
import { hostFile } from './bundle';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FORMAT = 'kiln-local-deps-1';
const PG = '/usr/lib/postgresql/15';
const MINIO = process.env.KILN_MINIO_BINARY ?? '/var/cache/kiln-test-env/bin/minio';

export const textFile = (name: string, text: string, mode = FILE_MODE): TarFile => {
  const bytes = Buffer.from(text);
  return { name, size: bytes.length, mode, sha256: createHash('sha256').update(bytes).digest('hex'), open: () => Readable.from([bytes]) };
};

/** Every shared library `ldd` says these ELF files load, at the paths the loader looks for them. */
async function sharedLibraries(elfs: string[]): Promise<TarFile[]> {
  const found = new Map<string, string>();
  for (const elf of elfs) {
    const { stdout } = await run('ldd', [elf]).catch(() => ({ stdout: '' })); // a static binary: "not a dynamic executable"
    for (const line of stdout.split('\n')) {
      const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
      if (m && !found.has(m[1])) found.set(m[1], await fs.realpath(m[1]));
    }
  }
  return Promise.all([...found].map(([at, real]) => hostFile(at.slice(1), real)));
}

/** A folder of this machine, files and symlinks, at the same path. */
async function hostTree(dir: string): Promise<TarFile[]> {
  const out: TarFile[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await hostTree(p)));
    else if (e.isSymbolicLink()) out.push(tarSymlink(p.slice(1), await fs.readlink(p)));
    else if (e.isFile()) out.push(await hostFile(p.slice(1), p));
  }
  return out;
}

/** busybox (Debian's busybox-static) as /bin/sh and its applets. */
async function busybox(): Promise<TarFile[]> {
  const applets = (await run('/bin/busybox', ['--list'])).stdout.split('\n').filter((a) => a && a !== 'busybox');
  return [await hostFile('bin/busybox', '/bin/busybox', EXEC_MODE), ...applets.map((a) => tarSymlink(`bin/${a}`, 'busybox'))];
}

const users = (list: Array<[string, number]>) => [
  textFile('etc/passwd', ['root:x:0:0:root:/root:/bin/sh', ...list.map(([n, id]) => `${n}:x:${id}:${id}::/tmp:/bin/sh`)].join('\n') + '\n'),
  textFile('etc/group', ['root:x:0:', ...list.map(([n, id]) => `${n}:x:${id}:`)].join('\n') + '\n'),
];

interface LocalImage {
  name: string;
  files(): Promise<TarFile[]>;
  config: NonNullable<ImageConfigFile['config']>;
}

const PATH = 'PATH=/usr/local/bin:/usr/bin:/bin';

const POSTGRES_ENTRYPOINT = `#!/bin/sh
# The official postgres image's contract, in short: POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB make the first
# cluster; connections from anywhere need the password.
set -eu
: "\${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
user=\${POSTGRES_USER:-postgres}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s\\n' "$POSTGRES_PASSWORD" > /tmp/pwfile
  initdb -D "$PGDATA" -U "$user" --pwfile=/tmp/pwfile --auth=scram-sha-256 -E UTF8 --locale=C >/dev/null
  rm -f /tmp/pwfile
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  db=\${POSTGRES_DB:-$user}
  if [ "$db" != postgres ]; then echo "CREATE DATABASE \\"$db\\" OWNER \\"$user\\"" | postgres --single -D "$PGDATA" -j postgres >/dev/null; fi
fi
exec postgres -D "$PGDATA" "$@"
`;

const REGISTRY_CONFIG = `version: 0.1
log:
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
`;

export const LOCAL_IMAGES: LocalImage[] = [
  {
    name: 'kiln-local/postgres:15',
    async files() {
      const tree = [...(await hostTree(PG)), ...(await hostTree('/usr/share/postgresql/15')), ...(await hostTree('/usr/share/zoneinfo'))];
      const elfs = [...(await fs.readdir(`${PG}/bin`)).map((b) => `${PG}/bin/${b}`), ...(await fs.readdir(`${PG}/lib`)).filter((f) => f.endsWith('.so')).map((f) => `${PG}/lib/${f}`)];
      return [
        ...tree,
        ...(await sharedLibraries(elfs)),
        ...(await busybox()),
        ...users([['postgres', 999]]),
        textFile('usr/local/bin/docker-entrypoint.sh', POSTGRES_ENTRYPOINT, EXEC_MODE),
        tarDirectory('tmp', 0o1777),
        tarDirectory('var/run/postgresql', 0o2775, { uid: 999, gid: 999 }),
        tarDirectory('var/lib/postgresql/data', 0o700, { uid: 999, gid: 999 }),
      ];
    },
    config: {
      User: '999:999',
      Env: [`PATH=${PG}/bin:/usr/local/bin:/usr/bin:/bin`, 'PGDATA=/var/lib/postgresql/data', 'TZ=UTC'],
      Entrypoint: ['/usr/local/bin/docker-entrypoint.sh'],
      Volumes: { '/var/lib/postgresql/data': {} },
      ExposedPorts: { '5432/tcp': {} },
      StopSignal: 'SIGINT',
    },
  },
  {
    name: 'kiln-local/minio:latest',
    async files() {
      return [
        await hostFile('usr/bin/minio', MINIO, EXEC_MODE),
        ...(await sharedLibraries([MINIO])),
        ...users([['minio', 1000]]),
        tarDirectory('tmp', 0o1777),
        tarDirectory('data', 0o755, { uid: 1000, gid: 1000 }),
      ];
    },
    config: { User: '1000:1000', Env: [PATH, 'HOME=/tmp'], Entrypoint: ['/usr/bin/minio'], Cmd: ['server', '/data'], Volumes: { '/data': {} }, ExposedPorts: { '9000/tcp': {} } },
  },
  {
    name: 'kiln-local/registry:2',
    async files() {
      return [
        await hostFile('bin/registry', '/usr/bin/docker-registry', EXEC_MODE),
        ...(await sharedLibraries(['/usr/bin/docker-registry'])),
        ...users([['registry', 1000]]),
        textFile('etc/docker/registry/config.yml', REGISTRY_CONFIG),
        tarDirectory('tmp', 0o1777),
        tarDirectory('var/lib/registry', 0o755, { uid: 1000, gid: 1000 }),
      ];
    },
    config: { User: '1000:1000', Env: [PATH], Entrypoint: ['/bin/registry', 'serve'], Cmd: ['/etc/docker/registry/config.yml'], Volumes: { '/var/lib/registry': {} }, ExposedPorts: { '5000/tcp': {} } },
  },
  {
    name: 'kiln-local/curl:latest',
    async files() {
      return [
        await hostFile('usr/bin/curl', '/usr/bin/curl', EXEC_MODE),
        ...(await sharedLibraries(['/usr/bin/curl'])),
        ...(await busybox()),
        ...users([['curl_user', 100]]),
        ...(existsSync('/etc/ssl/certs/ca-certificates.crt') ? [await hostFile('etc/ssl/certs/ca-certificates.crt', '/etc/ssl/certs/ca-certificates.crt', FILE_MODE)] : []),
        tarDirectory('tmp', 0o1777),
      ];
    },
    config: { User: '100:100', Env: [PATH], Entrypoint: ['curl'] },
  },
];

/** One local image, made or read from the cache (keyed by every file that goes in). */
export async function localImage(spec: LocalImage): Promise<Image> {
  const files = await spec.files();
  const key = createHash('sha256')
    .update(`${FORMAT}\n${spec.name}\n${JSON.stringify(spec.config)}\n`)
    .update(files.map((f) => `${f.name}\t${f.sha256 ?? f.linkname ?? ''}\t${f.mode}\t${f.uid ?? 0}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(ROOT, 'node_modules', '.cache', 'kiln', 'local-deps', `${spec.name.replace(/[/:]/g, '_')}-${key}`);
  if (existsSync(path.join(dir, 'index.json'))) return readOciLayout(dir, 'image');
  const layer = await layerFromFiles(files);
  const image = imageFromConfig(
    {
      architecture: 'amd64',
      os: 'linux',
      config: { ...spec.config, Labels: { 'ai.kiln.image.local': `${spec.name} from this machine's binaries (scripts/image/local-deps.ts)` } },
      rootfs: { type: 'layers', diff_ids: [layer.diffID] },
      history: [{ created_by: `kiln: ${spec.name} from this machine's binaries` }],
    },
    [layer],
  );
  const staging = `${dir}.${process.pid}.tmp`;
  await fs.rm(staging, { recursive: true, force: true });
  await ociLayoutSink(staging).write(image, 'image');
  await fs.rename(staging, dir).catch(async (err) => {
    await fs.rm(staging, { recursive: true, force: true });
    if (!existsSync(path.join(dir, 'index.json'))) throw err;
  });
  return readOciLayout(dir, 'image');
}

/** `docker load` of an image under `tag`, into the engine `dockerHost` names (default: docker's own). */
export async function loadIntoDocker(image: Image, tag: string, dockerHost?: string): Promise<void> {
  const child = spawn('docker', [...(dockerHost ? ['-H', dockerHost] : []), 'load', '--quiet'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let said = '';
  child.stdout.on('data', (c: Buffer) => (said += c));
  child.stderr.on('data', (c: Buffer) => (said += c));
  const exited = new Promise<number>((resolve, reject) => child.on('error', reject).on('exit', (code) => resolve(code ?? 1)));
  await pipeline(dockerArchive(image, [tag]), child.stdin);
  if ((await exited) !== 0 || !said.includes(tag)) throw new Error(`docker load of ${tag}: ${said.trim()}`);
}

/** Every local image loaded into the engine, unless it already holds that very image (same config digest). */
export async function loadLocalImages(dockerHost?: string): Promise<Record<string, string>> {
  const loaded: Record<string, string> = {};
  for (const spec of LOCAL_IMAGES) {
    const image = await localImage(spec);
    const id = await run('docker', [...(dockerHost ? ['-H', dockerHost] : []), 'image', 'inspect', '-f', '{{.Id}}', spec.name]).then((r) => r.stdout.trim(), () => '');
    if (id !== image.configBlob.digest) await loadIntoDocker(image, spec.name, dockerHost);
    loaded[spec.name] = image.digest;
  }
  return loaded;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--load')) console.log(JSON.stringify(await loadLocalImages()));
  else for (const spec of LOCAL_IMAGES) console.log(spec.name, (await localImage(spec)).digest);
}
