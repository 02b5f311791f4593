// End to end: the registry, inference and builder services in this process, against the real Postgres, MinIO,
// container registries and Docker engine of scripts/test-env. Versions become images that the engine runs.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { builderClient, grpc } from '@kiln/api';
import type { BuildModelVersionResponse__Output } from '@kiln/api/generated/kiln/v1/BuildModelVersionResponse';
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import { loadConfig } from '@kiln/config';
import { pullImage, RegistryTransport, streamLayer, uploadStreamLayer } from '@kiln/oci';
import { Readable } from 'node:stream';
import { createLogger } from '@kiln/log';
import type { KilnError } from '@kiln/errors';
import { seededBytes } from '@kiln/oci/testing/model-files';
import { mountedBlobs, startTestRegistry, uploadedBlobs, uploadsStarted, type TestRegistry } from '@kiln/oci/testing/registry-server';
import { startBuilder } from '../services/builder/src/index';
import { startKiln, uploadModel, waitForBuild, type RunningKiln, type UploadFile } from './helpers/services';
import { freePort, requireEnv } from './helpers/test-config';
import { startTokenServer, type TokenServer } from './helpers/token-server';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const VARS = ['KILN_TEST_DATABASE_URL', 'KILN_TEST_S3_ENDPOINT', 'KILN_TEST_REGISTRY', 'KILN_TEST_REGISTRY_BASIC',
  'KILN_TEST_REGISTRY_USER', 'KILN_TEST_REGISTRY_PASSWORD', 'KILN_TEST_DOCKER_HOST', 'KILN_TEST_BASE_IMAGE', 'KILN_TEST_SKOPEO', 'KILN_TEST_UMOCI'] as const;
const missing = VARS.filter((v) => !process.env[v]);

if (missing.length) {
  // Not a skip: a run without the servers must not pass as if the builder had been tested.
  it('the builder end-to-end tests need the servers of scripts/test-env', () => {
    assert.fail(`${missing.join(', ')} not set: run through scripts/test, or eval "$(bash scripts/test-env start)" first`);
  });
} else {
  const env = requireEnv(...VARS);

  /** Runs a command in the image with the real engine (pulling it from the registry) and returns its stdout. */
  async function dockerRun(ref: string, ...cmd: string[]): Promise<string> {
    const { stdout } = await run('docker', ['-H', env.KILN_TEST_DOCKER_HOST, 'run', '--rm', '--pull', 'always', '--network', 'none', ref, ...cmd], { maxBuffer: 64 * MiB });
    return stdout;
  }
  /** Removes the engine's images of this run (built by the builder or pulled by docker run) to keep its disk. */
  async function removeEngineImages(prefix: string): Promise<void> {
    const { stdout } = await run('docker', ['-H', env.KILN_TEST_DOCKER_HOST, 'images', '--format', '{{.Repository}}:{{.Tag}}']);
    const mine = stdout.split('\n').filter((r) => r.startsWith(prefix));
    if (mine.length) await run('docker', ['-H', env.KILN_TEST_DOCKER_HOST, 'rmi', '-f', ...mine]).catch(() => {});
  }
  async function dockerLabels(ref: string): Promise<Record<string, string>> {
    const { stdout } = await run('docker', ['-H', env.KILN_TEST_DOCKER_HOST, 'image', 'inspect', '--format', '{{json .Config.Labels}}', ref]);
    return JSON.parse(stdout) as Record<string, string>;
  }
  /** The manifest of `ref` (host/repo:tag) as the registry serves it. */
  async function registryManifest(ref: string, auth?: string): Promise<{ digest: string; layers: string[]; config: string }> {
    const [host, ...rest] = ref.split('/');
    const repoTag = rest.join('/');
    const colon = repoTag.lastIndexOf(':');
    const res = await fetch(`http://${host}/v2/${repoTag.slice(0, colon)}/manifests/${repoTag.slice(colon + 1)}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json', ...(auth ? { authorization: auth } : {}) },
    });
    assert.equal(res.status, 200, `GET manifest ${ref}`);
    const body = Buffer.from(await res.arrayBuffer());
    const m = JSON.parse(body.toString()) as { config: { digest: string }; layers: Array<{ digest: string }> };
    return { digest: `sha256:${sha256(body)}`, layers: m.layers.map((l) => l.digest), config: m.config.digest };
  }

  // In every Docker build's files: the engine's layer cache outlives test runs, and a cached RUN prints nothing.
  const NONCE: UploadFile = { path: 'nonce.txt', content: `${process.pid}-${Date.now()}\n` };

  const CONTRACT_MANIFEST = (runtime: string, extra = '') =>
    `runtime: ${runtime}\n${extra}contract:\n  name: predict\n  inputs:\n    x: {shape: [-1, 4], type: float32}\n  outputs:\n    y: {shape: [-1], type: int64}\n`;

  /** A model: one 20 MiB weight file (a layer of its own), small files in a subfolder, an executable. */
  function modelFiles(tweak = ''): UploadFile[] {
    return [
      { path: 'weights.bin', content: seededBytes(1, 20 * MiB) },
      { path: 'config.json', content: `{"layers": 3${tweak}}\n` },
      { path: 'vocab/tokens.txt', content: 'alpha\nbeta\ngamma\n' },
      { path: 'bin/serve.sh', content: '#!/bin/sh\necho serving\n', executable: true },
    ];
  }

  describe('builder (daemonless and Docker engine) against real servers', () => {
    let kiln: RunningKiln;
    /** The registry images go to: a Distribution registry of this test's own, whose log tells what it received
     * (streamed PATCHes go over node:http, uploads and mounts over fetch: its log sees them all). */
    let registry: TestRegistry;
    // The repository of a default-namespace model (every model here but team/...'s).
    const repository = (model: string) => `${kiln.config.images.prefix}/default/${model}`;

    before(async () => {
      registry = await startTestRegistry(await freePort());
      kiln = await startKiln({ env: { KILN_IMAGE_REGISTRY: registry.address } });
    });
    after(async () => {
      if (kiln) await removeEngineImages(`${registry.address}/${kiln.config.images.prefix}/`);
      await kiln?.stop();
      await registry?.stop();
    });
    it('builds team/model into <prefix>/team/model:1, and a default-namespace model into <prefix>/default/<name>', async () => {
      const small: UploadFile[] = [{ path: 'weights.bin', content: seededBytes(7, 64 * 1024) }, NONCE];
      const v = await uploadModel(kiln.client, 'team/model', small);
      assert.equal(v.model, 'team/model');
      const { version } = await waitForBuild(kiln.client, 'team/model', v.version);
      assert.equal(version.status, 'MODEL_VERSION_STATUS_RELEASED', version.failureReason);
      assert.equal(version.imageReference, `${registry.address}/${kiln.config.images.prefix}/team/model:1`);
      assert.equal((await registryManifest(version.imageReference)).digest, version.imageDigest, 'the registry serves it there');
      const pulled = await pullImage(version.imageReference, { insecure: true });
      assert.equal(pulled.digest, version.imageDigest);

      // Given in its long form, a default-namespace model is stored, answered and pushed under its short name.
      const d = await uploadModel(kiln.client, 'default/ns-short', small);
      assert.equal(d.model, 'ns-short');
      const built = (await waitForBuild(kiln.client, 'ns-short', d.version)).version;
      assert.equal(built.imageReference, `${registry.address}/${repository('ns-short')}:1`);
      assert.equal((await registryManifest(built.imageReference)).digest, built.imageDigest);
    });

    /** A builder with an empty local layer cache, as another replica or a container restarted without its volume. */
    async function builderWithEmptyCache(): Promise<void> {
      await kiln.stopBuilder();
      await fs.rm(path.join(kiln.config.dataDir, 'builder-cache'), { recursive: true, force: true });
      await kiln.restartBuilder();
    }

    let first: { ref: string; digest: string; model: string; weightLayer: string };

    it('releases a version as an image whose /model files the Docker engine reads back byte for byte', async () => {
      const files = modelFiles();
      const v = await uploadModel(kiln.client, 'iris', files, { manifest: CONTRACT_MANIFEST(env.KILN_TEST_BASE_IMAGE) });
      const { version, log } = await waitForBuild(kiln.client, 'iris', v.version);
      assert.equal(version.status, 'MODEL_VERSION_STATUS_RELEASED', version.failureReason);
      assert.equal(version.imageReference, `${registry.address}/${kiln.config.images.prefix}/default/iris:1`);
      assert.match(version.imageDigest, /^sha256:[a-f0-9]{64}$/);
      // The weight file's layer was read once: pushed while hashed, then found in the cache when the image was made.
      const pushed = log.find((l) => l.startsWith('layer ') && l.includes('/model/weights.bin: pushed while hashing'));
      assert.ok(pushed, log.join('\n'));
      assert.ok(log.some((l) => l.startsWith('layer ') && l.endsWith('/model/weights.bin (digest cached, not read)')), log.join('\n'));
      first = { ref: version.imageReference, digest: version.imageDigest, model: 'iris', weightLayer: pushed.split(' ')[1] };
      assert.ok((await registryManifest(first.ref)).layers.includes(first.weightLayer));

      const out = await dockerRun(version.imageReference, 'sh', '-c',
        'cd /model && sha256sum weights.bin config.json vocab/tokens.txt bin/serve.sh && ls -l bin/serve.sh && cat contract.json');
      for (const f of files) assert.ok(out.includes(`${sha256(f.content as Buffer)}  ${f.path}`), `${f.path} differs:\n${out}`);
      assert.match(out, /-rwxr-xr-x .* bin\/serve\.sh/);
      const contract = JSON.parse(out.slice(out.indexOf('{'))) as { signatures: Array<{ name: string; inputs: Array<{ name: string }> }> };
      assert.equal(contract.signatures[0].inputs[0].name, 'x');

      const labels = await dockerLabels(version.imageReference);
      assert.equal(labels['org.opencontainers.image.title'], 'iris');
      assert.equal(labels['org.opencontainers.image.version'], '1');
      assert.equal(labels['ai.kiln.model.name'], 'iris');
      assert.equal(labels['org.opencontainers.image.base.name'], env.KILN_TEST_BASE_IMAGE);
      assert.equal(labels['org.opencontainers.image.base.digest'], (await registryManifest(env.KILN_TEST_BASE_IMAGE)).digest);
      assert.deepEqual(JSON.parse(labels['ai.kiln.contract']), contract);
      assert.equal((await registryManifest(version.imageReference)).digest, version.imageDigest);
    });

    it('gives the same digest when built again, and a builder with an empty local cache neither reads nor re-pushes the weight file', async () => {
      const build = async () => {
        const events: BuildModelVersionResponse__Output[] = [];
        const call = builderClient(kiln.builder).BuildModelVersion({ model: 'iris', version: 1 });
        for await (const e of call) events.push(e as BuildModelVersionResponse__Output);
        return { result: events.at(-1)!.result!, log: events.filter((e) => e.log).map((e) => e.log!.line) };
      };
      const again = await build();
      assert.equal(again.result.imageDigest, first.digest);
      assert.ok(again.log.some((l) => l.includes('(digest cached, not read)')), again.log.join('\n'));
      assert.ok(again.log.some((l) => l.includes('nothing to push')), again.log.join('\n'));

      // A builder with no local cache finds the weight layer in the registry's layer index: it neither reads the file
      // nor sends it; the small files are hashed again. Still the same bytes, the same digest.
      await builderWithEmptyCache();
      const mark = await registry.mark();
      const fresh = await build();
      assert.equal(fresh.result.imageDigest, first.digest);
      const received = await registry.requests(mark);
      assert.equal(uploadsStarted(received), 0, 'no upload began');
      assert.deepEqual(uploadedBlobs(received), []);
      assert.ok(fresh.log.some((l) => l.endsWith(`/model/weights.bin: in the registry's layer index (pushed to ${repository('iris')}), not read`)), fresh.log.join('\n'));
      assert.ok(!fresh.log.some((l) => l.includes('pushed while hashing')), fresh.log.join('\n'));
      assert.ok(!fresh.log.some((l) => l.includes('small-files') && l.includes('(digest cached')), fresh.log.join('\n'));
    });

    it('pushes only the changed layers (and the config) for a re-upload with one changed small file', async () => {
      const before = await registryManifest(first.ref);
      const mark = await registry.mark();
      const v = await uploadModel(kiln.client, 'iris', modelFiles(', "dropout": 0.1'), { manifest: CONTRACT_MANIFEST(env.KILN_TEST_BASE_IMAGE) });
      const { version, log } = await waitForBuild(kiln.client, 'iris', v.version);
      assert.equal(version.status, 'MODEL_VERSION_STATUS_RELEASED', version.failureReason);
      assert.ok(log.some((l) => l.endsWith('/model/weights.bin (digest cached, not read)')), log.join('\n'));

      const after = await registryManifest(version.imageReference);
      const changed = after.layers.filter((d) => !before.layers.includes(d));
      assert.equal(changed.length, 1, 'only the small-files layer differs');
      assert.equal(after.layers.length, before.layers.length);

      // What the registry received: blob uploads are POST (start) + PATCH (chunks, or one streamed) + PUT ?digest=.
      const received = await registry.requests(mark);
      assert.deepEqual(uploadedBlobs(received).sort(), [changed[0], after.config].sort());
      assert.equal(received.filter((r) => r.method === 'PATCH').length, 0, 'no PATCH (no large upload, streamed or chunked)');
    });

    it('mounts the weight layer from the first model\'s repository for another model with the same weight file', async () => {
      await builderWithEmptyCache();
      const mark = await registry.mark();
      const files = [modelFiles()[0], { path: 'other.txt', content: 'another model\n' }];
      const v = await uploadModel(kiln.client, 'iris-copy', files, { manifest: `runtime: ${env.KILN_TEST_BASE_IMAGE}\n` });
      const { version, log } = await waitForBuild(kiln.client, 'iris-copy', v.version);
      assert.equal(version.status, 'MODEL_VERSION_STATUS_RELEASED', version.failureReason);
      assert.ok((await registryManifest(version.imageReference)).layers.includes(first.weightLayer));
      const received = await registry.requests(mark, repository('iris-copy'));
      assert.deepEqual(mountedBlobs(received), [`${first.weightLayer} from ${repository('iris')}`]);
      assert.ok(!uploadedBlobs(received).includes(first.weightLayer), 'the weight bytes were not sent');
      assert.equal(received.filter((r) => r.method === 'PATCH').length, 0, 'no PATCH: the only large layer was mounted');
      assert.ok(log.some((l) => l.endsWith(`/model/weights.bin: in the registry's layer index (pushed to ${repository('iris')}), not read`)), log.join('\n'));
    });

    it('sends a new weight file once when builds that share it run at the same time', async () => {
      const weight = { path: 'w.bin', content: seededBytes(5, 20 * MiB) };
      await builderWithEmptyCache();
      const mark = await registry.mark();
      // Twins: the queued build of each, and two more builds of the first called at once.
      const [a, b] = await Promise.all(['twin-a', 'twin-b'].map((m) => uploadModel(kiln.client, m, [weight, { path: `${m}.txt`, content: m }])));
      const direct = await Promise.all([1, 2].map(async () => {
        const lines: string[] = [];
        for await (const e of builderClient(kiln.builder).BuildModelVersion({ model: 'twin-a', version: a.version })) {
          if ((e as BuildModelVersionResponse__Output).log) lines.push((e as BuildModelVersionResponse__Output).log!.line);
        }
        return lines;
      }));
      for (const [model, v] of [['twin-a', a], ['twin-b', b]] as const) {
        const { version } = await waitForBuild(kiln.client, model, v.version);
        assert.equal(version.status, 'MODEL_VERSION_STATUS_RELEASED', version.failureReason);
      }
      const layerLine = direct.flat().find((l) => l.startsWith('layer ') && l.includes('/model/w.bin: '));
      assert.ok(layerLine, direct.flat().join('\n'));
      const weightLayer = layerLine.split(' ')[1];
      const received = await registry.requests(mark);
      assert.deepEqual(uploadedBlobs(received).filter((d) => d === weightLayer), [weightLayer], 'the weight layer\'s bytes went once');
      for (const model of ['twin-a', 'twin-b']) {
        assert.ok((await registryManifest(`${registry.address}/${repository(model)}:1`)).layers.includes(weightLayer), model);
      }
    });

    it('writes the same image, digest for digest, into an OCI layout from another Kiln, which skopeo copies and umoci unpacks', async () => {
      const other = await startKiln({ env: { KILN_IMAGE_SINK: 'layout' } });
      const work = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-layout-copy-'));
      try {
        const files = modelFiles();
        const v = await uploadModel(other.client, 'iris', files, { manifest: CONTRACT_MANIFEST(env.KILN_TEST_BASE_IMAGE) });
        const { version } = await waitForBuild(other.client, 'iris', v.version);
        assert.equal(version.status, 'MODEL_VERSION_STATUS_RELEASED', version.failureReason);
        const ref = `${other.config.images.prefix}/default/iris:1`;
        assert.equal(version.imageReference, `oci:${other.config.images.layoutDir}:${ref}`);
        assert.equal(version.imageDigest, first.digest);
        const { stdout } = await run(env.KILN_TEST_SKOPEO, ['inspect', '--raw', version.imageReference]);
        assert.equal(`sha256:${sha256(stdout)}`, first.digest);

        // Copied by skopeo (every blob read and checked against its digest) and unpacked by umoci: the base's files
        // and the model's, the latter byte for byte as uploaded, with their modes.
        // --preserve-digests: skopeo would otherwise write the manifest again (its own JSON), another digest.
        await run(env.KILN_TEST_SKOPEO, ['copy', '--preserve-digests', version.imageReference, `oci:${work}/copy:iris`]);
        const { stdout: copied } = await run(env.KILN_TEST_SKOPEO, ['inspect', '--raw', `oci:${work}/copy:iris`]);
        assert.equal(`sha256:${sha256(copied)}`, first.digest, 'the copy is the same image');
        await run(env.KILN_TEST_UMOCI, ['unpack', '--image', `${work}/copy:iris`, `${work}/bundle`]);
        const rootfs = path.join(work, 'bundle', 'rootfs');
        for (const f of files) {
          assert.equal(sha256(await fs.readFile(path.join(rootfs, 'model', f.path))), sha256(f.content as Buffer | string), f.path);
          assert.equal((await fs.stat(path.join(rootfs, 'model', f.path))).mode & 0o777, f.executable ? 0o755 : 0o644, `${f.path} mode`);
        }
        const contract = JSON.parse(await fs.readFile(path.join(rootfs, 'model', 'contract.json'), 'utf8')) as { signatures: unknown[] };
        assert.equal(contract.signatures.length, 1);
        await fs.access(path.join(rootfs, 'bin', 'busybox'));
      } finally {
        await other.stop();
        await fs.rm(work, { recursive: true, force: true });
      }
    });

    it('runs an install-command in the runtime image with the Docker engine and pushes the result', async () => {
      const manifest = CONTRACT_MANIFEST(env.KILN_TEST_BASE_IMAGE,
        'install-command: "sha256sum weights.bin > weights.sha256 && echo kiln-install-ran && mkdir -p out && echo built > out/marker"\n');
      const files = modelFiles();
      const v = await uploadModel(kiln.client, 'with-install', [...files, NONCE], { manifest });
      const { version, log } = await waitForBuild(kiln.client, 'with-install', v.version);
      assert.equal(version.status, 'MODEL_VERSION_STATUS_RELEASED', version.failureReason);
      assert.ok(log.includes('kiln-install-ran'), log.join('\n'));
      assert.equal(version.imageReference, `${registry.address}/${kiln.config.images.prefix}/default/with-install:1`);
      assert.equal((await registryManifest(version.imageReference)).digest, version.imageDigest);
      // Pushed, so no longer kept by the engine (docker run below pulls it back from the registry).
      assert.ok(log.includes(`removed ${version.imageReference} from the engine (its build cache kept)`), log.join('\n'));
      await assert.rejects(run('docker', ['-H', env.KILN_TEST_DOCKER_HOST, 'image', 'inspect', version.imageReference]), /No such image/);
      const out = await dockerRun(version.imageReference, 'sh', '-c', 'pwd; cat weights.sha256 out/marker; sha256sum config.json; cat contract.json');
      assert.ok(out.startsWith('/model\n'), out);
      assert.ok(out.includes(`${sha256(files[0].content as Buffer)}  weights.bin`), out);
      assert.ok(out.includes('built\n'), out);
      assert.ok(out.includes(`${sha256(files[1].content as Buffer)}  config.json`), out);
      const labels = await dockerLabels(version.imageReference);
      assert.equal(labels['ai.kiln.model.version'], '1');
      assert.equal(labels['org.opencontainers.image.base.digest'], (await registryManifest(env.KILN_TEST_BASE_IMAGE)).digest);

      // The build cache outlived the removal: the same files and command again run nothing (only the labels differ).
      const again = await uploadModel(kiln.client, 'with-install', [...files, NONCE], { manifest });
      const second = await waitForBuild(kiln.client, 'with-install', again.version);
      assert.equal(second.version.status, 'MODEL_VERSION_STATUS_RELEASED', second.version.failureReason);
      assert.ok(!second.log.includes('kiln-install-ran'), second.log.join('\n'));
      const runStep = second.log.findIndex((l) => l.startsWith('Step ') && l.includes(' : RUN '));
      assert.ok(runStep >= 0 && second.log[runStep + 1]?.includes('Using cache'), second.log.join('\n'));
    });

    it('ends FAILED with the failing command and its log when the install-command fails', async () => {
      const manifest = `runtime: ${env.KILN_TEST_BASE_IMAGE}\ninstall-command: "echo kiln-about-to-fail; exit 3"\n`;
      const v = await uploadModel(kiln.client, 'bad-install', [{ path: 'a.txt', content: 'a\n' }, NONCE], { manifest });
      const { version, log } = await waitForBuild(kiln.client, 'bad-install', v.version);
      assert.equal(version.status, 'MODEL_VERSION_STATUS_FAILED');
      assert.match(version.failureReason, /returned a non-zero code: 3/);
      assert.match(version.failureReason, /kiln-about-to-fail/, 'the reason carries the log tail');
      assert.ok(log.includes('kiln-about-to-fail'), log.join('\n'));
    });

    it('answers NOT_FOUND for a version that does not exist, and UNAVAILABLE when the Docker engine is down', async () => {
      const status = async (address: string, model: string, version: number) => {
        const call = builderClient(address).BuildModelVersion({ model, version });
        try {
          for await (const _ of call) { /* drain */ }
          return 'OK';
        } catch (err) {
          return grpc.status[(err as grpc.ServiceError).code];
        }
      };
      assert.equal(await status(kiln.builder, 'no-such-model', 1), 'NOT_FOUND');

      const config = loadConfig({ KILN_DATA_DIR: kiln.config.dataDir, KILN_BUILDER_LISTEN: '127.0.0.1:0' });
      const down = await startBuilder(
        { ...config, blobs: kiln.config.blobs, images: kiln.config.images, addresses: kiln.config.addresses, dockerHost: 'unix:///nonexistent/docker.sock' },
        createLogger('test', 'silent'),
      );
      try {
        assert.equal(await status(down.address, 'bad-install', 1), 'UNAVAILABLE');
      } finally {
        await down.stop();
      }
    });

    it('finishes a build after the builder is killed mid-build and a new one started (the queue retries)', async () => {
      const manifest = `runtime: ${env.KILN_TEST_BASE_IMAGE}\ninstall-command: "echo kiln-slow-start; sleep 4; echo kiln-slow-done"\n`;
      const v = await uploadModel(kiln.client, 'interrupted', [{ path: 'a.txt', content: 'a\n' }, NONCE], { manifest });
      let killed: Promise<void> | undefined;
      const { version, log } = await waitForBuild(kiln.client, 'interrupted', v.version, {
        timeoutMs: 180_000,
        onLog: (line) => {
          if (line === 'kiln-slow-start' && !killed) {
            killed = (async () => {
              await kiln.stopBuilder(0); // cancels the running build at once
              await new Promise((r) => setTimeout(r, 500));
              await kiln.restartBuilder();
            })();
          }
        },
      });
      await killed;
      assert.ok(killed, 'the build was interrupted');
      assert.equal(version.status, 'MODEL_VERSION_STATUS_RELEASED', version.failureReason);
      // The log of the first attempt ended at the kill; the registry keeps a retry's lines only past the first's count
      // (build_logs numbers restart per attempt), so the second attempt's lines are not asserted here.
      assert.ok(!log.slice(0, log.indexOf('kiln-slow-start') + 1).includes('kiln-slow-done'), 'killed before the command ended');
      assert.equal((await dockerRun(version.imageReference, 'cat', '/model/a.txt')), 'a\n');
    });
  });

  describe('pushing a layer while hashing it', () => {
    it('gives the same digest and stored bytes streamed in one PATCH and chunked through the transport', async () => {
      const bytes = seededBytes(3, 3 * MiB + 123);
      const transport = new RegistryTransport({ registry: env.KILN_TEST_REGISTRY, insecure: true });
      const repository = `kiln-e2e-stream-${process.pid}-${Date.now()}`;
      const auth = await transport.streamAuthorization();
      assert.equal(auth, '', 'the open registry needs no Authorization');
      const push = (open: () => Readable, streamAuthorization: string | null, size?: number) =>
        uploadStreamLayer(transport, repository, streamLayer(open, { size }), { chunkSize: MiB, streamAuthorization });
      const streamed = await push(() => Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), auth);
      const chunked = await push(() => Readable.from([bytes]), null);
      const withLength = await push(() => Readable.from([bytes.subarray(0, 5000), bytes.subarray(5000)]), auth, bytes.length);
      assert.deepEqual(streamed, { digest: `sha256:${sha256(bytes)}`, size: bytes.length, diffID: `sha256:${sha256(bytes)}` });
      assert.deepEqual(chunked, streamed);
      assert.deepEqual(withLength, streamed, 'sent with Content-Length');
      // A stream that disagrees with its declared length fails the push instead of leaving the registry waiting.
      for (const declared of [bytes.length + 1, bytes.length - 1]) {
        await assert.rejects(
          push(() => Readable.from([bytes]), auth, declared),
          (err: KilnError) => err.code === 'INTERNAL' && err.message.includes(`declared ${declared}`),
        );
      }
      const res = await fetch(`http://${env.KILN_TEST_REGISTRY}/v2/${repository}/blobs/${streamed.digest}`);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(bytes));
    });

    it('reports the registry\'s answer when it refuses a streamed PATCH before taking the body', async () => {
      const bytes = seededBytes(4, 8 * MiB);
      const credentials = { username: env.KILN_TEST_REGISTRY_USER, password: env.KILN_TEST_REGISTRY_PASSWORD };
      const transport = new RegistryTransport({ registry: env.KILN_TEST_REGISTRY_BASIC, insecure: true, credentials });
      const wrong = `Basic ${Buffer.from('kiln-test-user:wrong').toString('base64')}`;
      await assert.rejects(
        uploadStreamLayer(transport, `kiln-e2e-refused-${process.pid}`, streamLayer(() => Readable.from([bytes]), { size: bytes.length }), { chunkSize: MiB, streamAuthorization: wrong }),
        (err: KilnError) => err.code === 'FAILED_PRECONDITION' && /returned 401/.test(err.message),
      );
    });
  });

  /** Kiln pushing its images to `registry` as the test user (basic auth, or the user the token realm knows). */
  const startKilnPushingTo = (registry: string) =>
    startKiln({
      env: {
        KILN_IMAGE_REGISTRY: registry,
        KILN_IMAGE_REGISTRY_USERNAME: env.KILN_TEST_REGISTRY_USER,
        KILN_IMAGE_REGISTRY_PASSWORD: env.KILN_TEST_REGISTRY_PASSWORD,
      },
    });

  /** A daemonless and a Docker engine build (`<name>`, `<name>-install`) on the open registry's base, each asserted
   * RELEASED to `registry`. */
  async function releaseDaemonlessAndEngine(kiln: RunningKiln, registry: string, name: string, seed: number): Promise<Array<[string, ModelVersion__Output]>> {
    const plain = await uploadModel(kiln.client, name, [{ path: 'w.bin', content: seededBytes(seed, 17 * MiB) }], { manifest: `runtime: ${env.KILN_TEST_BASE_IMAGE}\n` });
    const engine = await uploadModel(kiln.client, `${name}-install`, [{ path: 'a.txt', content: 'a\n' }, NONCE],
      { manifest: `runtime: ${env.KILN_TEST_BASE_IMAGE}\ninstall-command: "cp a.txt b.txt"\n` });
    const released: Array<[string, ModelVersion__Output]> = [];
    for (const [model, v] of [[name, plain], [`${name}-install`, engine]] as const) {
      const { version } = await waitForBuild(kiln.client, model, v.version);
      assert.equal(version.status, 'MODEL_VERSION_STATUS_RELEASED', version.failureReason);
      assert.ok(version.imageReference.startsWith(`${registry}/`));
      released.push([model, version]);
    }
    return released;
  }

  describe('builder pushing to a registry with token auth', () => {
    const tokenEnv = requireEnv('KILN_TEST_REGISTRY_TOKEN', 'KILN_TEST_REGISTRY_TOKEN_REALM', 'KILN_TEST_REGISTRY_TOKEN_SERVICE',
      'KILN_TEST_REGISTRY_TOKEN_ISSUER', 'KILN_TEST_REGISTRY_TOKEN_KEY', 'KILN_TEST_REGISTRY_TOKEN_CERT');
    const credentials = { username: env.KILN_TEST_REGISTRY_USER, password: env.KILN_TEST_REGISTRY_PASSWORD };
    let kiln: RunningKiln;
    let tokens: TokenServer;
    before(async () => {
      tokens = await startTokenServer({
        realm: tokenEnv.KILN_TEST_REGISTRY_TOKEN_REALM,
        service: tokenEnv.KILN_TEST_REGISTRY_TOKEN_SERVICE,
        issuer: tokenEnv.KILN_TEST_REGISTRY_TOKEN_ISSUER,
        key: tokenEnv.KILN_TEST_REGISTRY_TOKEN_KEY,
        cert: tokenEnv.KILN_TEST_REGISTRY_TOKEN_CERT,
        users: { [credentials.username]: credentials.password },
      });
      kiln = await startKilnPushingTo(tokenEnv.KILN_TEST_REGISTRY_TOKEN);
    });
    after(async () => {
      if (kiln) await removeEngineImages(`${tokenEnv.KILN_TEST_REGISTRY_TOKEN}/${kiln.config.images.prefix}/`);
      await kiln?.stop();
      await tokens?.close();
    });

    it('pushes daemonless and engine builds with bearer tokens the realm grants for the configured user', async () => {
      for (const [model, version] of await releaseDaemonlessAndEngine(kiln, tokenEnv.KILN_TEST_REGISTRY_TOKEN, 'tokened', 3)) {
        const pulled = await pullImage(version.imageReference, { insecure: true, credentials });
        assert.equal(pulled.digest, version.imageDigest, `${model}: the registry serves the recorded image`);
        const repository = `${kiln.config.images.prefix}/default/${model}`;
        assert.ok(
          tokens.requests.some((r) => r.status === 200 && r.user === credentials.username && r.scopes.some((scope) => scope.startsWith(`repository:${repository}:`) && scope.includes('push'))),
          `${model}: a push token for ${repository} was granted to the configured user`,
        );
      }
      // Nobody got a token without the right password: every grant went to the configured user.
      assert.ok(tokens.requests.filter((r) => r.status === 200).every((r) => r.user === credentials.username));
    });
  });

  describe('builder pushing to a registry with basic auth', () => {
    let kiln: RunningKiln;
    const basic = `Basic ${Buffer.from(`${env.KILN_TEST_REGISTRY_USER}:${env.KILN_TEST_REGISTRY_PASSWORD}`).toString('base64')}`;
    before(async () => {
      kiln = await startKilnPushingTo(env.KILN_TEST_REGISTRY_BASIC);
    });
    after(async () => {
      if (kiln) await removeEngineImages(`${env.KILN_TEST_REGISTRY_BASIC}/${kiln.config.images.prefix}/`);
      await kiln?.stop();
    });

    it('pushes daemonless and engine builds with the configured credentials (the base comes from the open registry)', async () => {
      for (const [, version] of await releaseDaemonlessAndEngine(kiln, env.KILN_TEST_REGISTRY_BASIC, 'authed', 2)) {
        assert.equal((await registryManifest(version.imageReference, basic)).digest, version.imageDigest);
      }
    });
  });
}
