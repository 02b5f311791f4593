// Unit tests for reproducible model layers and images: digests, splitting, tar entry metadata.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it, before, after } from 'node:test';
import tar from 'tar-stream';
import { digestStream, sha256Digest } from './digest';
import { buildModelImage, emptyImage, appendLayers } from './image';
import { buildModelLayers, memoryLayerCache, type ModelFile } from './model-layers';
import { sampleModel, writeModelFiles, seededBytes, type FixtureFile } from './testing/model-files';

const MiB = 1024 * 1024;
const opts = { largeFileThreshold: 1 * MiB };

interface ReadEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  content: Buffer;
}

async function readTar(stream: Readable): Promise<ReadEntry[]> {
  const extract = tar.extract();
  const entries: ReadEntry[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, body, next) => {
      const chunks: Buffer[] = [];
      body.on('data', (c: unknown) => void chunks.push(c as Buffer));
      body.on('end', () => {
        entries.push({
          name: header.name,
          type: header.type ?? '',
          mode: header.mode ?? -1,
          uid: header.uid ?? -1,
          gid: header.gid ?? -1,
          uname: header.uname ?? '',
          gname: header.gname ?? '',
          mtime: header.mtime?.getTime() ?? -1,
          content: Buffer.concat(chunks),
        });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return entries;
}

let tmp: string;
const dirs: string[] = [];
async function materialize(files: FixtureFile[]): Promise<ModelFile[]> {
  const dir = await fs.mkdtemp(path.join(tmp, 'm-'));
  dirs.push(dir);
  return writeModelFiles(dir, files);
}

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-oci-unit-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('model layers', () => {
  it('puts each file above the threshold in its own layer, small files together, generated files apart', async () => {
    const files = await materialize(sampleModel());
    const layers = await buildModelLayers(files, {
      ...opts,
      extraFiles: [{ path: '/model/contract.json', content: '{"inputs":[]}' }],
    });
    assert.deepEqual(
      layers.map((l) => [l.kind, l.files]),
      [
        ['large-file', ['model/weights/model.bin']],
        ['small-files', ['model/README', 'model/config.json', 'model/serve.sh', 'model/tokenizer/vocab.txt']],
        ['generated', ['model/contract.json']],
      ],
    );
    for (const l of layers) {
      assert.equal(l.mediaType, 'application/vnd.oci.image.layer.v1.tar');
      assert.equal(l.diffID, l.digest, 'uncompressed: diffID is the digest');
      const again = await digestStream(l.open());
      assert.deepEqual(again, { digest: l.digest, size: l.size }, 'open() streams the bytes the digest was computed on');
    }
  });

  it('writes sorted entries with parent directories, mtime 0, uid/gid 0, empty names and fixed modes', async () => {
    const fixture = sampleModel();
    const files = await materialize(fixture);
    const [, smallLayer] = await buildModelLayers(files, opts);
    const entries = await readTar(smallLayer.open());
    assert.deepEqual(
      entries.map((e) => [e.name, e.type, e.mode.toString(8)]),
      [
        ['model/', 'directory', '755'],
        ['model/README', 'file', '644'],
        ['model/config.json', 'file', '644'],
        ['model/serve.sh', 'file', '755'],
        ['model/tokenizer/', 'directory', '755'],
        ['model/tokenizer/vocab.txt', 'file', '644'],
      ],
    );
    for (const e of entries) {
      assert.equal(e.mtime, 0, `${e.name} mtime`);
      assert.equal(e.uid, 0);
      assert.equal(e.gid, 0);
      assert.equal(e.uname, '');
      assert.equal(e.gname, '');
    }
    const vocab = entries.find((e) => e.name === 'model/tokenizer/vocab.txt')!;
    assert.ok(vocab.content.equals(fixture.find((f) => f.path === 'tokenizer/vocab.txt')!.content));
    const weight = await readTar((await buildModelLayers(files, opts))[0].open());
    assert.deepEqual(weight.map((e) => e.name), ['model/', 'model/weights/', 'model/weights/model.bin']);
  });

  it('gives the same digests when built twice and when files on disk have other mtimes', async () => {
    const a = await materialize(sampleModel());
    const b = await materialize(sampleModel());
    for (const f of await fs.readdir(dirs.at(-1)!, { recursive: true })) {
      await fs.utimes(path.join(dirs.at(-1)!, f as string), new Date('2001-02-03'), new Date('2001-02-03'));
    }
    await fs.chmod(path.join(dirs.at(-1)!, 'README'), 0o600);
    const one = await buildModelImage(a, { ...opts, name: 'iris', version: 3, contract: { b: 1, a: 2 } });
    const two = await buildModelImage(a, { ...opts, name: 'iris', version: 3, contract: { a: 2, b: 1 } });
    const three = await buildModelImage(b, { ...opts, name: 'iris', version: 3, contract: { b: 1, a: 2 } });
    assert.equal(one.image.digest, two.image.digest);
    assert.equal(one.image.digest, three.image.digest);
    assert.deepEqual(
      one.image.layers.map((l) => l.digest),
      three.image.layers.map((l) => l.digest),
    );
  });

  it('keeps the weight layer digest when only a small file changes', async () => {
    const base = sampleModel();
    const changed = base.map((f) => (f.path === 'config.json' ? { ...f, content: Buffer.from('{"changed":true}') } : f));
    const one = await buildModelLayers(await materialize(base), opts);
    const two = await buildModelLayers(await materialize(changed), opts);
    assert.equal(one[0].digest, two[0].digest, 'weight layer unchanged');
    assert.notEqual(one[1].digest, two[1].digest, 'small-files layer changed');
  });

  it('does not read a cached big file again on rebuild', async () => {
    const files = (await materialize(sampleModel())) as Array<ModelFile & { opens: number }>;
    const cache = memoryLayerCache();
    const first = await buildModelLayers(files, { ...opts, layerCache: cache });
    const weight = files.find((f) => f.path === 'weights/model.bin')!;
    assert.equal(weight.opens, 1);
    const second = await buildModelLayers(files, { ...opts, layerCache: cache });
    assert.equal(weight.opens, 1, 'cache hit: the weight is not read');
    assert.ok(second.every((l) => l.cached));
    assert.deepEqual(second.map((l) => l.digest), first.map((l) => l.digest));
    // a different path or mode for the same bytes is a different layer
    const moved = files.map((f) => (f === weight ? { ...f, path: 'weights/other.bin' } : f));
    const third = await buildModelLayers(moved, { ...opts, layerCache: cache });
    assert.equal(third[0].cached, false);
    assert.notEqual(third[0].digest, first[0].digest);
  });

  it('fails loudly when a file does not match its declared sha256 or size', async () => {
    const content = seededBytes(9, 1000);
    const bad: ModelFile = { path: 'x.bin', size: 1000, sha256: '0'.repeat(64), open: async () => Readable.from([content]) };
    await assert.rejects(buildModelLayers([bad]), { name: 'KilnError', code: 'FAILED_PRECONDITION' });
    const short: ModelFile = { path: 'x.bin', size: 1001, sha256: sha256Digest(content).slice(7), open: async () => Readable.from([content]) };
    await assert.rejects(buildModelLayers([short]), /999|1000 bytes, declared 1001/);
  });

  it('rejects unsafe and duplicate paths', async () => {
    const f = (p: string): ModelFile => ({ path: p, size: 0, sha256: sha256Digest('').slice(7), open: async () => Readable.from([]) });
    for (const p of ['../etc/passwd', '/abs', 'a//b', 'a/./b', '']) {
      await assert.rejects(buildModelLayers([f(p)]), { code: 'INVALID_ARGUMENT' }, p);
    }
    await assert.rejects(buildModelLayers([f('a'), f('a')]), /duplicate/);
    await assert.rejects(buildModelLayers([f('a'), f('a/b')]), /both a file and a directory/);
  });
});

describe('model image', () => {
  it('sets labels without a created timestamp and lists diff_ids in layer order', async () => {
    const files = await materialize(sampleModel());
    const { image, modelLayers } = await buildModelImage(files, {
      ...opts,
      name: 'iris',
      version: 7,
      contract: { inputs: [{ name: 'x' }] },
      source: 'https://example.invalid/iris',
      revision: 'abc123',
    });
    const labels = image.config.config!.Labels!;
    assert.equal(labels['org.opencontainers.image.title'], 'iris');
    assert.equal(labels['org.opencontainers.image.version'], '7');
    assert.equal(labels['org.opencontainers.image.source'], 'https://example.invalid/iris');
    assert.equal(labels['org.opencontainers.image.revision'], 'abc123');
    assert.equal(labels['ai.kiln.model.name'], 'iris');
    assert.equal(labels['ai.kiln.model.version'], '7');
    assert.deepEqual(JSON.parse(labels['ai.kiln.contract']), { inputs: [{ name: 'x' }] });
    assert.equal(labels['org.opencontainers.image.created'], undefined);
    assert.ok(!/\d{4}-\d\d-\d\dT/.test(image.rawConfig.toString()), 'no timestamp anywhere in the config');
    assert.equal(image.config.architecture, 'amd64');
    assert.equal(image.config.os, 'linux');
    assert.deepEqual(image.config.rootfs.diff_ids, modelLayers.map((l) => l.diffID));
    assert.equal(image.manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(image.manifest.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    assert.equal(image.manifest.config.digest, sha256Digest(image.rawConfig));
    assert.equal(image.digest, sha256Digest(image.rawManifest));
  });

  it('keeps a base image config (env, entrypoint, cmd) and layers first, without changing the base', async () => {
    const baseLayer = (await buildModelLayers(await materialize([{ path: 'sh', content: Buffer.from('x') }]), { root: '/bin' }))[0];
    const empty = emptyImage();
    const base = appendLayers(empty, [baseLayer], {});
    const withEnv = { ...base.config, created: '2020-01-01T00:00:00Z', config: { Env: ['PATH=/bin'], Entrypoint: ['/bin/sh'], Cmd: ['-c', 'true'] } };
    const { imageFromConfig } = await import('./image');
    const baseImage = imageFromConfig(withEnv, base.layers);
    const baseDigest = baseImage.digest;
    const { image } = await buildModelImage(await materialize(sampleModel()), { ...opts, name: 'm', version: 1, base: baseImage });
    assert.equal(baseImage.digest, baseDigest);
    assert.equal(image.layers[0].digest, baseLayer.digest);
    assert.equal(image.layers.length, 3);
    assert.deepEqual(image.config.config!.Env, ['PATH=/bin']);
    assert.deepEqual(image.config.config!.Entrypoint, ['/bin/sh']);
    assert.deepEqual(image.config.config!.Cmd, ['-c', 'true']);
    assert.equal(image.config.created, undefined);
    assert.equal(image.config.rootfs.diff_ids[0], baseLayer.diffID);
  });

  it('maps Docker layer media types to their OCI twins when appending to a Docker schema2 base', async () => {
    const { imageFromConfig } = await import('./image');
    const dockerLayer = { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha256Digest('gz'), size: 2, diffID: sha256Digest('tar'), open: () => Readable.from([Buffer.from('gz')]) };
    const base = imageFromConfig({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [dockerLayer.diffID] } }, [dockerLayer]);
    const { image } = await buildModelImage(await materialize(sampleModel()), { ...opts, name: 'm', version: 1, base });
    assert.equal(image.manifest.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    assert.equal(image.manifest.layers[0].digest, dockerLayer.digest);
    assert.equal(image.config.rootfs.diff_ids[0], dockerLayer.diffID);
  });
});
