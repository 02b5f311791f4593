// End-to-end tests of @kiln/oci against real Distribution registries (no auth, basic, token), skopeo, umoci and
// the Docker engine that scripts/test-env starts. They fail, never skip, when the environment is missing.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  appendLayers,
  buildModelImage,
  emptyImage,
  ociLayoutSink,
  layerCacheKey,
  pullImage,
  readOciLayout,
  registryLayerIndex,
  registrySink,
  RegistryTransport,
  type Image,
  type ModelFile,
} from '@kiln/oci';
import { sampleModel, writeModelFiles, type FixtureFile } from '@kiln/oci/testing/model-files';
import { startTokenServer, type TokenServer } from './helpers/token-server';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const layerOptions = { largeFileThreshold: 1 * MiB };
const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const repo = (name: string) => `kiln-test/${runId}/${name}`;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through scripts/test (scripts/test-env start)`);
  return value;
}

/** `127.0.0.1:5000` or `http://127.0.0.1:5000` -> host and whether it is plain HTTP. */
function registryOf(value: string): { registry: string; insecure: boolean } {
  const m = /^(https?):\/\/([^/]+)\/?$/.exec(value);
  if (m) return { registry: m[2], insecure: m[1] === 'http' };
  return { registry: value.replace(/\/$/, ''), insecure: /^(localhost|127\.|\[::1\])/.test(value) };
}

/** The command to run for a tool variable: a path or command name, or the default name for a bare `1`/`true`. */
function tool(name: string, fallback: string): string {
  const value = env(name);
  return value === '1' || value === 'true' ? fallback : value;
}

/** Credentials for one of the test registries (the base image may live in any of them). */
function credentialsFor(registry: string) {
  const secured = [process.env.KILN_TEST_REGISTRY_BASIC, process.env.KILN_TEST_REGISTRY_TOKEN]
    .filter((v): v is string => Boolean(v))
    .map((v) => registryOf(v).registry);
  return secured.includes(registry)
    ? { username: env('KILN_TEST_REGISTRY_USER'), password: env('KILN_TEST_REGISTRY_PASSWORD') }
    : undefined;
}

/** fetch wrapped to record what a push sent: blob uploads by digest, PATCH chunks, mounts, auth failures. */
function recordingFetch(corruptAuthOnce = false) {
  const log = { uploads: [] as string[], patches: [] as string[], mounts: [] as string[], unauthorized: 0, requests: 0 };
  let corrupt = corruptAuthOnce;
  const wrapped: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input.toString() : input.url);
    const method = init?.method ?? 'GET';
    const headers = { ...((init?.headers as Record<string, string>) ?? {}) };
    if (corrupt && headers.authorization?.startsWith('Bearer ') && url.pathname.includes('/blobs/')) {
      headers.authorization = 'Bearer invalid';
      corrupt = false;
    }
    log.requests++;
    const res = await fetch(input, { ...init, headers });
    if (res.status === 401 && url.pathname.startsWith('/v2/') && url.pathname !== '/v2/') log.unauthorized++;
    if (method === 'PUT' && url.searchParams.get('digest') && res.status === 201) log.uploads.push(url.searchParams.get('digest')!);
    if (method === 'PATCH') log.patches.push(headers['content-range'] ?? '');
    if (method === 'POST' && url.searchParams.get('mount') && res.status === 201) log.mounts.push(url.searchParams.get('mount')!);
    return res;
  };
  return { fetch: wrapped, log };
}

let tmp: string;
let fixture: FixtureFile[];
let files: ModelFile[];
let image: Image;

async function modelImage(fx: FixtureFile[], version: number, base?: Image) {
  const dir = await fs.mkdtemp(path.join(tmp, 'files-'));
  const mf = await writeModelFiles(dir, fx);
  return buildModelImage(mf, {
    ...layerOptions,
    name: 'iris',
    version,
    contract: { inputs: [{ name: 'x', dtype: 'DATA_TYPE_FLOAT' }] },
    extraFiles: [{ path: '/model/contract.json', content: '{"inputs":[{"name":"x"}]}\n' }],
    base,
  });
}

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-oci-e2e-'));
  fixture = sampleModel(42);
  files = await writeModelFiles(path.join(tmp, 'model'), fixture);
  ({ image } = await modelImage(fixture, 1));
});
after(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('registry sink, no auth', () => {
  it('pushes every blob once, with chunked PATCHes for the big layer, and the manifest by tag', async () => {
    const { registry, insecure } = registryOf(env('KILN_TEST_REGISTRY'));
    const rec = recordingFetch();
    const sink = registrySink({ registry, insecure, repository: repo('noauth'), fetch: rec.fetch, chunkSize: 1 * MiB, monolithicMaxSize: 1 * MiB });
    const result = await sink.write(image, 'v1');
    assert.equal(result.digest, image.digest);
    const blobs = [...image.layers.map((l) => l.digest), image.manifest.config.digest];
    assert.deepEqual([...rec.log.uploads].sort(), [...blobs].sort(), 'each blob uploaded exactly once');
    const weight = image.layers[0];
    assert.ok(weight.size > 3 * MiB);
    assert.equal(rec.log.patches.length, Math.ceil(weight.size / MiB), 'the 3 MiB weight went in 1 MiB chunks');
    assert.equal(rec.log.patches[1], `${MiB}-${2 * MiB - 1}`);

    const pulled = await pullImage(`${registry}/${repo('noauth')}:v1`, { insecure });
    assert.equal(pulled.digest, image.digest);
    assert.deepEqual(pulled.config, image.config);
  });

  it('uploads no blob when the same image is pushed again', async () => {
    const { registry, insecure } = registryOf(env('KILN_TEST_REGISTRY'));
    const rec = recordingFetch();
    const result = await registrySink({ registry, insecure, repository: repo('noauth'), fetch: rec.fetch }).write(image, 'v1-again');
    assert.deepEqual(rec.log.uploads, []);
    assert.deepEqual(rec.log.patches, []);
    assert.equal(result.existing.length, image.layers.length + 1);
  });

  it('uploads only the changed layer and the config when one small file changes', async () => {
    const { registry, insecure } = registryOf(env('KILN_TEST_REGISTRY'));
    const changed = fixture.map((f) => (f.path === 'config.json' ? { ...f, content: Buffer.from('{"changed":1}') } : f));
    const { image: v2, modelLayers } = await modelImage(changed, 1);
    const small = modelLayers.find((l) => l.kind === 'small-files')!;
    const rec = recordingFetch();
    const result = await registrySink({ registry, insecure, repository: repo('noauth'), fetch: rec.fetch }).write(v2, 'v2');
    assert.deepEqual([...rec.log.uploads].sort(), [small.digest, v2.manifest.config.digest].sort());
    assert.equal(result.digest, v2.digest);
    assert.notEqual(v2.digest, image.digest);
    assert.equal(v2.layers[0].digest, image.layers[0].digest, 'the weight layer digest is unchanged');
  });

  it('mounts blobs from another repository of the same registry instead of uploading', async () => {
    const { registry, insecure } = registryOf(env('KILN_TEST_REGISTRY'));
    const rec = recordingFetch();
    const result = await registrySink({ registry, insecure, repository: repo('mounted'), mountFrom: [repo('noauth')], fetch: rec.fetch }).write(image, 'v1');
    assert.deepEqual(rec.log.uploads, []);
    assert.equal(rec.log.mounts.length, image.layers.length + 1);
    assert.equal(result.mounted.length, image.layers.length + 1);
    const pulled = await pullImage(`${registry}/${repo('mounted')}:v1`, { insecure });
    assert.equal(pulled.digest, image.digest);
  });

  it('resolves linux/amd64 from an OCI index and from a Docker manifest list when pulling', async () => {
    const { registry, insecure } = registryOf(env('KILN_TEST_REGISTRY'));
    const repository = repo('multi');
    const transport = new RegistryTransport({ registry, insecure });
    const arm = appendLayers(emptyImage({ architecture: 'arm64' }), image.layers.slice(-1));
    for (const [img, tag] of [[image, 'amd64'], [arm, 'arm64']] as const) {
      await registrySink({ registry, repository, transport }).write(img, tag);
    }
    const entries = [
      { img: arm, platform: { architecture: 'arm64', os: 'linux' } },
      { img: image, platform: { architecture: 'amd64', os: 'linux' } },
    ];
    for (const [mediaType, tag] of [
      ['application/vnd.oci.image.index.v1+json', 'oci-index'],
      ['application/vnd.docker.distribution.manifest.list.v2+json', 'docker-list'],
    ]) {
      const index = {
        schemaVersion: 2,
        mediaType,
        manifests: entries.map(({ img, platform }) => ({ mediaType: img.mediaType, digest: img.digest, size: img.rawManifest.length, platform })),
      };
      await transport.request('PUT', `/v2/${repository}/manifests/${tag}`, {
        body: JSON.stringify(index),
        headers: { 'content-type': mediaType },
        ok: [201],
        scopes: [`repository:${repository}:pull,push`],
      });
      const pulled = await pullImage(`${registry}/${repository}:${tag}`, { insecure });
      assert.equal(pulled.digest, image.digest, tag);
      const armPulled = await pullImage(`${registry}/${repository}:${tag}`, { insecure, platform: { os: 'linux', architecture: 'arm64' } });
      assert.equal(armPulled.digest, arm.digest);
      await assert.rejects(pullImage(`${registry}/${repository}:${tag}`, { insecure, platform: { os: 'linux', architecture: 's390x' } }), { code: 'NOT_FOUND' });
    }
  });

  it('fails and leaves no blob behind when a file changed on disk between build and push', async () => {
    const { registry, insecure } = registryOf(env('KILN_TEST_REGISTRY'));
    const fx = sampleModel(77);
    const dir = await fs.mkdtemp(path.join(tmp, 'changing-'));
    const mf = await writeModelFiles(dir, fx);
    const { image: built } = await buildModelImage(mf, { ...layerOptions, name: 'iris', version: 9 });
    const weight = fx.find((f) => f.path === 'weights/model.bin')!;
    const tampered = Buffer.from(weight.content);
    tampered[tampered.length - 1] ^= 0xff;
    await fs.writeFile(path.join(dir, weight.path), tampered);
    const sink = registrySink({ registry, insecure, repository: repo('changing'), chunkSize: 1 * MiB, monolithicMaxSize: 1 * MiB, concurrency: 1 });
    await assert.rejects(sink.write(built, 'v9'), { code: 'FAILED_PRECONDITION', message: /weights\/model\.bin.*sha256/ });
    const transport = new RegistryTransport({ registry, insecure });
    const head = await transport.request('HEAD', `/v2/${repo('changing')}/blobs/${built.layers[0].digest}`, { ok: [200, 404] });
    assert.equal(head.status, 404);
    await assert.rejects(pullImage(`${registry}/${repo('changing')}:v9`, { insecure }), { code: 'NOT_FOUND' });
  });

  it('keeps layer index entries: a miss is undefined, an entry comes back with its origin, a malformed one is a miss', async () => {
    const { registry, insecure } = registryOf(env('KILN_TEST_REGISTRY'));
    const transport = new RegistryTransport({ registry, insecure });
    const repository = repo('kiln/layers');
    const index = registryLayerIndex(transport, repository);
    const tarFile = (sha: string) => ({ name: 'model/w.bin', size: 1, mode: 0o644, sha256: sha, open: () => { throw new Error('not read'); } });
    const key = layerCacheKey([tarFile('a'.repeat(64))]);
    assert.equal(await index.get(key), undefined);
    const weight = image.layers[0];
    const entry = { digest: weight.digest, diffID: weight.diffID, size: weight.size, origin: { registry, repository: repo('noauth') } };
    await index.set(key, entry);
    assert.deepEqual(await index.get(key), entry);
    assert.equal(await index.get(layerCacheKey([tarFile('b'.repeat(64))])), undefined, 'another file, another key');
    // An index entry keeps no layer alive: its manifest lists none (only the 2-byte empty config).
    const tag = key.replace(':', '-');
    const res = await transport.request('GET', `/v2/${repository}/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const manifest = (await res.json()) as { layers: unknown[]; config: { size: number } };
    assert.deepEqual(manifest.layers, []);
    assert.equal(manifest.config.size, 2);
    // Written over with an entry for another key (or by anything else): not trusted for this key.
    const other = layerCacheKey([tarFile('c'.repeat(64))]);
    await index.set(other, entry);
    const forged = await transport.request('GET', `/v2/${repository}/manifests/${other.replace(':', '-')}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    await transport.request('PUT', `/v2/${repository}/manifests/${tag}`, {
      body: Buffer.from(await forged.arrayBuffer()),
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      ok: [201],
    });
    assert.equal(await index.get(key), undefined);
  });

  it('reports an unreachable registry as UNAVAILABLE with its address', async () => {
    const sink = registrySink({ registry: '127.0.0.1:1', insecure: true, repository: repo('x') });
    await assert.rejects(sink.write(image, 'v1'), (err: Error & { code?: string }) => err.code === 'UNAVAILABLE' && err.message.includes('127.0.0.1:1'));
  });
});

describe('registry sink, basic auth', () => {
  it('pushes with basic credentials and rejects a wrong password', async () => {
    const { registry, insecure } = registryOf(env('KILN_TEST_REGISTRY_BASIC'));
    const credentials = { username: env('KILN_TEST_REGISTRY_USER'), password: env('KILN_TEST_REGISTRY_PASSWORD') };
    const rec = recordingFetch();
    const result = await registrySink({ registry, insecure, credentials, repository: repo('basic'), fetch: rec.fetch }).write(image, 'v1');
    assert.equal(result.digest, image.digest);
    assert.equal(rec.log.unauthorized, 0, 'credentials sent up front once the scheme is known');
    const pulled = await pullImage(`${registry}/${repo('basic')}:v1`, { insecure, credentials });
    assert.equal(pulled.digest, image.digest);

    const bad = registrySink({ registry, insecure, credentials: { ...credentials, password: 'wrong' }, repository: repo('basic') });
    await assert.rejects(bad.write(image, 'v1'), { code: 'FAILED_PRECONDITION', message: /authentication failed/ });
  });
});

describe('registry sink, token auth', () => {
  let tokens: TokenServer;
  const tokenOptions = () => ({
    realm: env('KILN_TEST_REGISTRY_TOKEN_REALM'),
    service: env('KILN_TEST_REGISTRY_TOKEN_SERVICE'),
    issuer: env('KILN_TEST_REGISTRY_TOKEN_ISSUER'),
    key: env('KILN_TEST_REGISTRY_TOKEN_KEY'),
    cert: env('KILN_TEST_REGISTRY_TOKEN_CERT'),
    users: { [env('KILN_TEST_REGISTRY_USER')]: env('KILN_TEST_REGISTRY_PASSWORD') },
  });
  before(async () => {
    tokens = await startTokenServer(tokenOptions());
  });
  after(async () => tokens?.close());

  it('pushes with bearer tokens from the challenge, one token reused for every request, and mounts across repos', async () => {
    const { registry, insecure } = registryOf(env('KILN_TEST_REGISTRY_TOKEN'));
    const credentials = { username: env('KILN_TEST_REGISTRY_USER'), password: env('KILN_TEST_REGISTRY_PASSWORD') };
    const rec = recordingFetch();
    const transport = new RegistryTransport({ registry, insecure, credentials, fetch: rec.fetch });
    const sink = registrySink({ registry, repository: repo('token'), transport, chunkSize: 1 * MiB, monolithicMaxSize: 1 * MiB });
    const result = await sink.write(image, 'v1');
    assert.equal(result.digest, image.digest);
    assert.equal(transport.tokenRequests, 1, 'one token for the whole push');
    assert.ok(rec.log.requests > 8);
    const grant = tokens.requests.at(-1)!;
    assert.equal(grant.user, credentials.username, 'basic credentials sent to the token realm');
    assert.deepEqual(grant.scopes, [`repository:${repo('token')}:pull,push`]);

    await sink.write(image, 'v1-again');
    assert.equal(transport.tokenRequests, 1, 'token reused on the next push');

    const mounted = await registrySink({ registry, repository: repo('token-mounted'), transport, mountFrom: [repo('token')] }).write(image, 'v1');
    assert.equal(mounted.mounted.length, image.layers.length + 1);
    assert.deepEqual(tokens.requests.at(-1)!.scopes.sort(), [`repository:${repo('token')}:pull`, `repository:${repo('token-mounted')}:pull,push`].sort());

    const pulled = await pullImage(`${registry}/${repo('token-mounted')}:v1`, { insecure, credentials });
    assert.equal(pulled.digest, image.digest);
  });

  it('gets a new token and retries when the registry answers 401', async () => {
    const { registry, insecure } = registryOf(env('KILN_TEST_REGISTRY_TOKEN'));
    const credentials = { username: env('KILN_TEST_REGISTRY_USER'), password: env('KILN_TEST_REGISTRY_PASSWORD') };
    const rec = recordingFetch(true);
    const transport = new RegistryTransport({ registry, insecure, credentials, fetch: rec.fetch });
    const result = await registrySink({ registry, repository: repo('token-reauth'), transport }).write(image, 'v1');
    assert.equal(result.digest, image.digest);
    assert.equal(rec.log.unauthorized, 1);
    assert.equal(transport.tokenRequests, 2);
  });

  it('keeps a layer index entry with the scopes of its own repository', async () => {
    const { registry, insecure } = registryOf(env('KILN_TEST_REGISTRY_TOKEN'));
    const credentials = { username: env('KILN_TEST_REGISTRY_USER'), password: env('KILN_TEST_REGISTRY_PASSWORD') };
    const index = registryLayerIndex(new RegistryTransport({ registry, insecure, credentials }), repo('token-layers'));
    const key = layerCacheKey([{ name: 'model/w.bin', size: 1, mode: 0o644, sha256: 'e'.repeat(64), open: () => { throw new Error('not read'); } }]);
    const entry = { digest: image.layers[0].digest, diffID: image.layers[0].diffID, size: image.layers[0].size, origin: { registry, repository: repo('token') } };
    await index.set(key, entry);
    assert.deepEqual(await index.get(key), entry);
  });

  it('fails with FAILED_PRECONDITION when the token realm refuses the credentials', async () => {
    const { registry, insecure } = registryOf(env('KILN_TEST_REGISTRY_TOKEN'));
    const sink = registrySink({ registry, insecure, repository: repo('token'), credentials: { username: 'nobody', password: 'nope' } });
    await assert.rejects(sink.write(image, 'v1'), { code: 'FAILED_PRECONDITION', message: /token request returned 401/ });
  });
});

describe('OCI layout with skopeo and umoci', () => {
  it('is inspected and copied to a registry by skopeo, unpacked by umoci with the files byte-identical', async () => {
    const skopeo = tool('KILN_TEST_SKOPEO', 'skopeo');
    const { registry } = registryOf(env('KILN_TEST_REGISTRY'));
    const dir = path.join(tmp, 'layout');
    await ociLayoutSink(dir).write(image, 'iris-1');

    const { stdout } = await run(skopeo, ['inspect', `oci:${dir}:iris-1`]);
    const inspected = JSON.parse(stdout);
    assert.equal(inspected.Digest, image.digest);
    assert.equal(inspected.Labels['ai.kiln.model.name'], 'iris');
    assert.equal(inspected.Labels['ai.kiln.model.version'], '1');
    assert.equal(inspected.Architecture, 'amd64');
    assert.equal(inspected.Layers.length, image.layers.length);

    const target = `${registry}/${repo('skopeo')}:iris-1`;
    await run(skopeo, ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `oci:${dir}:iris-1`, `docker://${target}`]);
    const { stdout: remote } = await run(skopeo, ['inspect', '--tls-verify=false', `docker://${target}`]);
    assert.equal(JSON.parse(remote).Labels['ai.kiln.model.name'], 'iris');

    const umoci = process.env.KILN_TEST_UMOCI ?? 'umoci';
    const bundle = path.join(tmp, 'bundle');
    await run(umoci, ['unpack', '--image', `${dir}:iris-1`, bundle]);
    for (const f of fixture) {
      const got = await fs.readFile(path.join(bundle, 'rootfs/model', f.path));
      assert.ok(got.equals(f.content), `${f.path} byte-identical`);
      const mode = (await fs.stat(path.join(bundle, 'rootfs/model', f.path))).mode & 0o777;
      assert.equal(mode, f.executable ? 0o755 : 0o644, `${f.path} mode`);
    }
    assert.equal(await fs.readFile(path.join(bundle, 'rootfs/model/contract.json'), 'utf8'), '{"inputs":[{"name":"x"}]}\n');

    const back = await readOciLayout(dir, 'iris-1');
    assert.equal(back.digest, image.digest);
  });
});

describe('model image on a base, run by Docker', () => {
  it('keeps the base (busybox) runnable and shows /model files byte-identical to the input', async () => {
    const dockerHost = env('KILN_TEST_DOCKER_HOST');
    const baseRef = env('KILN_TEST_BASE_IMAGE').replace(/^docker:\/\//, '');
    const { registry, insecure } = registryOf(env('KILN_TEST_REGISTRY'));
    const base = baseRef.startsWith('oci:')
      ? await readOciLayout(baseRef.slice(4).split(':')[0], baseRef.slice(4).split(':')[1])
      : await pullImage(baseRef, { insecure: registryOf(baseRef.split('/')[0]).insecure, credentials: credentialsFor(baseRef.split('/')[0]) });
    const { image: onBase, modelLayers } = await modelImage(fixture, 3, base);
    assert.equal(onBase.layers.length, base.layers.length + modelLayers.length);
    assert.deepEqual(onBase.config.rootfs.diff_ids.slice(0, base.layers.length), base.config.rootfs.diff_ids);
    assert.deepEqual(onBase.config.config?.Env, base.config.config?.Env, 'base Env kept');

    const rec = recordingFetch();
    const result = await registrySink({ registry, insecure, repository: repo('on-base'), fetch: rec.fetch }).write(onBase, 'v3');
    if (!baseRef.startsWith('oci:') && baseRef.startsWith(`${registry}/`)) {
      assert.equal(result.mounted.length, base.layers.length, 'base layers mounted from the base repository');
    }

    // Into another registry the base layers cannot be mounted: they stream from the base's registry.
    const { registry: basicRegistry, insecure: basicInsecure } = registryOf(env('KILN_TEST_REGISTRY_BASIC'));
    const credentials = { username: env('KILN_TEST_REGISTRY_USER'), password: env('KILN_TEST_REGISTRY_PASSWORD') };
    const copied = await registrySink({ registry: basicRegistry, insecure: basicInsecure, credentials, repository: repo('on-base') }).write(onBase, 'v3');
    assert.equal(copied.uploaded.length, onBase.layers.length + 1);
    const back = await pullImage(`${basicRegistry}/${repo('on-base')}:v3`, { insecure: basicInsecure, credentials });
    assert.equal(back.digest, onBase.digest);

    const ref = `${registry}/${repo('on-base')}:v3`;
    const docker = (...args: string[]) => run('docker', ['-H', dockerHost, ...args], { maxBuffer: 16 * MiB });
    await docker('pull', ref);
    try {
      const { stdout: inspect } = await docker('image', 'inspect', ref);
      assert.equal(JSON.parse(inspect)[0].Config.Labels['ai.kiln.model.name'], 'iris');
      const { stdout } = await docker('run', '--rm', '--network', 'none', ref, 'sh', '-c', 'cd /model && find . -type f | sort | while read f; do sha256sum "$f"; done');
      const expected = [
        ...fixture.map((f) => [`./${f.path}`, createHash('sha256').update(f.content).digest('hex')]),
        ['./contract.json', createHash('sha256').update('{"inputs":[{"name":"x"}]}\n').digest('hex')],
      ]
        .map(([p, h]) => `${h}  ${p}`)
        .sort();
      const got = stdout.trim().split('\n').sort();
      assert.deepEqual(got, expected);
    } finally {
      await docker('rmi', '-f', ref).catch(() => {});
    }
  });
});
