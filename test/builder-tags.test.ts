// End to end: alias tags (TagModelVersion) in a real Distribution registry of this test's own, read back by a raw
// GET, skopeo and the Docker engine of scripts/test-env: the tag names the version's image digest, moves to version
// 2, and costs a manifest PUT of the same bytes, never a blob upload; a Docker-built image's tag keeps its media type.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { builderClient, grpc, type BuilderClient } from '@kiln/api';
import { promiseClient } from '@kiln/api/client';
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import { seededBytes } from '@kiln/oci/testing/model-files';
import { startTestRegistry, uploadedBlobs, uploadsStarted, type TestRegistry } from '@kiln/oci/testing/registry-server';
import { startKiln, uploadModel, waitForBuild, type RunningKiln, type UploadFile } from './helpers/services';
import { freePort, requireEnv } from './helpers/test-config';

const run = promisify(execFile);
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const VARS = ['KILN_TEST_DATABASE_URL', 'KILN_TEST_S3_ENDPOINT', 'KILN_TEST_DOCKER_HOST', 'KILN_TEST_BASE_IMAGE', 'KILN_TEST_SKOPEO'] as const;
const missing = VARS.filter((v) => !process.env[v]);

if (missing.length) {
  // Not a skip: a run without the servers must not pass as if tags had been tested.
  it('the alias tag end-to-end tests need the servers of scripts/test-env', () => {
    assert.fail(`${missing.join(', ')} not set: run through scripts/test, or eval "$(bash scripts/test-env start)" first`);
  });
} else {
  const env = requireEnv(...VARS);
  const skopeo = env.KILN_TEST_SKOPEO === '1' || env.KILN_TEST_SKOPEO === 'true' ? 'skopeo' : env.KILN_TEST_SKOPEO;

  describe('alias tags in a Distribution registry', () => {
    let registry: TestRegistry;
    let kiln: RunningKiln;
    let builder: BuilderClient;
    const pulled: string[] = [];

    before(async () => {
      registry = await startTestRegistry(await freePort());
      kiln = await startKiln({ env: { KILN_IMAGE_REGISTRY: registry.address } });
      builder = builderClient(kiln.builder);
    });
    after(async () => {
      builder?.close();
      if (pulled.length) await run('docker', ['-H', env.KILN_TEST_DOCKER_HOST, 'rmi', '-f', ...pulled]).catch(() => {});
      await kiln?.stop();
      await registry?.stop();
    });

    /** Uploads files as a new version of `model` and waits for its image. */
    async function released(model: string, files: UploadFile[], manifest?: string): Promise<ModelVersion__Output> {
      const v = await uploadModel(kiln.client, model, files, manifest ? { manifest } : {});
      const { version } = await waitForBuild(kiln.client, model, v.version);
      assert.equal(version.status, 'MODEL_VERSION_STATUS_RELEASED', version.failureReason);
      return version;
    }
    const tag = (v: ModelVersion__Output, alias: string) => promiseClient(builder).TagModelVersion({
      model: v.model, version: v.version, tag: alias, imageReference: v.imageReference, imageDigest: v.imageDigest,
    });
    /** What the registry answers for `repository:reference`: the Docker-Content-Digest header, the body and its type. */
    async function served(repository: string, reference: string): Promise<{ status: number; digest: string | null; bodyDigest: string; type: string | null }> {
      const res = await fetch(`http://${registry.address}/v2/${repository}/manifests/${reference}`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
      });
      const body = Buffer.from(await res.arrayBuffer());
      return { status: res.status, digest: res.headers.get('docker-content-digest'), bodyDigest: sha256(body), type: res.headers.get('content-type') };
    }
    async function skopeoDigest(ref: string): Promise<string> {
      const { stdout } = await run(skopeo, ['inspect', '--tls-verify=false', `docker://${ref}`]);
      return (JSON.parse(stdout) as { Digest: string }).Digest;
    }

    it('points <repo>:production at version 1\'s digest, then at version 2\'s, with one manifest PUT each and no blob upload', async () => {
      const model = 'fraud/scorer';
      const repository = `${kiln.config.images.prefix}/fraud/scorer`;
      const files = (n: number): UploadFile[] => [{ path: 'weights.bin', content: seededBytes(n, 256 * 1024) }, { path: 'config.json', content: `{"v": ${n}}\n` }];
      const v1 = await released(model, files(1));
      const v2 = await released(model, files(2));
      assert.notEqual(v1.imageDigest, v2.imageDigest);

      const mark = await registry.mark();
      const tagged = await tag(v1, 'production');
      assert.deepEqual(tagged, { imageReference: `${registry.address}/${repository}:production`, imageDigest: v1.imageDigest });
      const first = await served(repository, 'production');
      assert.deepEqual([first.status, first.digest, first.bodyDigest], [200, v1.imageDigest, v1.imageDigest], 'the registry serves version 1\'s manifest under the tag');
      assert.equal((await served(repository, '1')).type, first.type, 'with the media type it was pushed with');
      assert.equal(await skopeoDigest(tagged.imageReference), v1.imageDigest, 'skopeo reads the same');

      // The same again: a HEAD finds it there, and nothing is written.
      assert.deepEqual(await tag(v1, 'production'), tagged);
      // Moved to version 2 (the lead's registry does this when the alias moves).
      const moved = await tag(v2, 'production');
      assert.deepEqual(moved, { imageReference: tagged.imageReference, imageDigest: v2.imageDigest });
      assert.equal((await served(repository, 'production')).digest, v2.imageDigest);
      assert.equal(await skopeoDigest(moved.imageReference), v2.imageDigest);
      assert.equal((await served(repository, '1')).digest, v1.imageDigest, 'version 1\'s own tag is untouched');

      const requests = await registry.requests(mark, repository);
      assert.deepEqual(uploadedBlobs(requests), [], 'no blob uploaded');
      assert.equal(uploadsStarted(requests), 0, 'no upload session opened');
      // (skopeo's inspect reads the config blob: only reads, and the engine's pull below comes after this count.)
      const blobWrites = requests.filter((r) => r.path.includes('/blobs/') && r.method !== 'GET' && r.method !== 'HEAD');
      assert.deepEqual(blobWrites, [], 'no blob written');
      const puts = requests.filter((r) => r.method === 'PUT').map((r) => `${r.path} ${r.status}`);
      assert.deepEqual(puts, [`/v2/${repository}/manifests/production 201`, `/v2/${repository}/manifests/production 201`], 'one manifest PUT per move, none for the repeat');

      // What a Kubernetes node or `docker pull` does: the engine pulls the tag and has version 2's image.
      const ref = moved.imageReference;
      await run('docker', ['-H', env.KILN_TEST_DOCKER_HOST, 'pull', ref]);
      pulled.push(ref);
      const { stdout } = await run('docker', ['-H', env.KILN_TEST_DOCKER_HOST, 'image', 'inspect', '--format', '{{json .RepoDigests}}', ref]);
      assert.ok((JSON.parse(stdout) as string[]).includes(`${registry.address}/${repository}@${v2.imageDigest}`), stdout);
    });

    it('refuses a manifest the repository does not have (FAILED_PRECONDITION), another repository, and a version-number tag', async () => {
      const v = await released('risk/limits', [{ path: 'w.bin', content: seededBytes(9, 4096) }]);
      const missingDigest = `sha256:${'0'.repeat(64)}`;
      const codeOf = (p: Promise<unknown>) => p.then(() => 'OK', (err: { code: number; details: string }) => `${grpc.status[err.code]} ${err.details}`);
      const notThere = await codeOf(promiseClient(builder).TagModelVersion({
        model: v.model, version: v.version, tag: 'production', imageReference: v.imageReference, imageDigest: missingDigest,
      }));
      assert.match(notThere, /^FAILED_PRECONDITION .*manifest sha256:0{64} is not in the repository/);
      const otherRepository = await codeOf(promiseClient(builder).TagModelVersion({
        model: 'risk/other', version: v.version, tag: 'production', imageReference: v.imageReference, imageDigest: v.imageDigest,
      }));
      assert.match(otherRepository, /^FAILED_PRECONDITION TagModelVersionRequest\.image_reference: /);
      assert.match(await codeOf(tag(v, '2')), /^INVALID_ARGUMENT TagModelVersionRequest\.tag: .*all digits/);
      assert.equal((await served(`${kiln.config.images.prefix}/risk/limits`, 'production')).status, 404, 'no tag made');
    });

    it('an untag leaves the registry\'s tag and the version\'s image (removed: false, saying why)', async () => {
      const v = await released('risk/untag', [{ path: 'w.bin', content: seededBytes(10, 4096) }]);
      await tag(v, 'staging');
      const mark = await registry.mark();
      const result = await promiseClient(builder).UntagModelVersion({ model: v.model, tag: 'staging', imageDigest: v.imageDigest });
      assert.equal(result.removed, false);
      assert.match(result.detail, /deletes manifests by digest only/);
      const repository = `${kiln.config.images.prefix}/risk/untag`;
      assert.equal((await served(repository, 'staging')).digest, v.imageDigest);
      assert.equal((await served(repository, '1')).digest, v.imageDigest);
      assert.ok(!(await registry.requests(mark, repository)).some((r) => r.method === 'DELETE'), 'no DELETE sent');
    });

    it('tags an image the Docker engine built and pushed (an install-command version), keeping its manifest bytes and type', async () => {
      const nonce = `${process.pid}-${Date.now()}`;
      const v = await released('engine-built', [{ path: 'a.txt', content: `${nonce}\n` }],
        `runtime: ${env.KILN_TEST_BASE_IMAGE}\ninstall-command: "cp a.txt b.txt"\n`);
      const repository = `${kiln.config.images.prefix}/default/engine-built`;
      const own = await served(repository, '1');
      const tagged = await tag(v, 'production');
      const alias = await served(repository, 'production');
      assert.deepEqual([alias.digest, alias.bodyDigest, alias.type], [v.imageDigest, v.imageDigest, own.type], tagged.imageReference);
    });
  });
}
