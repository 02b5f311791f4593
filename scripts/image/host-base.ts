// A Node 20 base image made from this machine's own node and the shared libraries it loads, for machines that cannot
// pull node:20-bookworm-slim (tests, air-gapped builds). It has what Kiln's image needs and nothing else: no shell,
// no package manager. Kept as an OCI layout in node_modules/.cache/kiln/image-base, keyed by the files that go in.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  imageFromConfig,
  layerFromFiles,
  ociLayoutSink,
  readOciLayout,
  tarDirectory,
  FILE_MODE,
  type Image,
  type TarFile,
} from '@kiln/oci';
import { hostFile } from './bundle';

const run = promisify(execFile);
/** Bumped when what goes into the base changes, so a cached one is made again. */
const FORMAT = 'kiln-host-node-base-1';
const TAG = 'node';

const PASSWD = 'root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:1000:1000::/home/node:/usr/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/usr/sbin/nologin\n';
const GROUP = 'root:x:0:\nnode:x:1000:\nnonroot:x:65532:\n';

const textFile = (name: string, text: string): TarFile => {
  const bytes = Buffer.from(text);
  return { name, size: bytes.length, mode: FILE_MODE, sha256: createHash('sha256').update(bytes).digest('hex'), open: () => Readable.from([bytes]) };
};

/** The libraries `ldd` says node loads, each at the path the loader looks for it (ld.so at its ELF interpreter path). */
async function sharedLibraries(node: string): Promise<Array<{ name: string; source: string }>> {
  const { stdout } = await run('ldd', [node]);
  const libs: Array<{ name: string; source: string }> = [];
  for (const line of stdout.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push({ name: m[1].slice(1), source: await fs.realpath(m[1]) });
  }
  return libs;
}

/** The base image (made first, or read from the cache): linux/amd64, node at /usr/local/bin/node as in the official image. */
export async function hostNodeBase(root: string, node = process.execPath): Promise<{ image: Image; layoutDir: string }> {
  const major = Number((await run(node, ['-p', 'process.versions.node'])).stdout.split('.')[0]);
  if (major !== 20) throw new Error(`${node} is node ${major}: Kiln's image runs on node 20`);
  const files: TarFile[] = [
    await hostFile('usr/local/bin/node', await fs.realpath(node)),
    ...(await Promise.all((await sharedLibraries(node)).map((l) => hostFile(l.name, l.source)))),
    textFile('etc/passwd', PASSWD),
    textFile('etc/group', GROUP),
    tarDirectory('tmp', 0o1777),
    tarDirectory('home/node', 0o755, { uid: 1000, gid: 1000 }),
    tarDirectory('home/nonroot', 0o755, { uid: 65532, gid: 65532 }),
  ];
  if (existsSync('/etc/ssl/certs/ca-certificates.crt')) files.push(await hostFile('etc/ssl/certs/ca-certificates.crt', '/etc/ssl/certs/ca-certificates.crt', FILE_MODE));
  const key = createHash('sha256')
    .update(FORMAT)
    .update(files.map((f) => `${f.name}\t${f.sha256 ?? ''}\t${f.mode}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const layoutDir = path.join(root, 'node_modules', '.cache', 'kiln', 'image-base', key);
  if (existsSync(path.join(layoutDir, 'index.json'))) return { image: await readOciLayout(layoutDir, TAG), layoutDir };

  const layer = await layerFromFiles(files);
  const version = (await run(node, ['-p', 'process.version'])).stdout.trim();
  const image = imageFromConfig(
    {
      architecture: 'amd64',
      os: 'linux',
      config: {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `NODE_VERSION=${version.slice(1)}`],
        Cmd: ['node'],
        Labels: { 'ai.kiln.image.base': `this machine's node ${version} and its shared libraries` },
      },
      rootfs: { type: 'layers', diff_ids: [layer.diffID] },
      history: [{ created_by: `kiln: ${node} (${version}) and the libraries it loads` }],
    },
    [layer],
  );
  const staging = `${layoutDir}.${process.pid}.tmp`;
  await fs.rm(staging, { recursive: true, force: true });
  await ociLayoutSink(staging).write(image, TAG);
  await fs.rename(staging, layoutDir).catch(async (err) => {
    await fs.rm(staging, { recursive: true, force: true });
    if (!existsSync(path.join(layoutDir, 'index.json'))) throw err;
  });
  return { image: await readOciLayout(layoutDir, TAG), layoutDir };
}
