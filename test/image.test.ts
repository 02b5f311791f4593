// End to end: Kiln's own image (`npm run image`, scripts/image/build.ts). Two builds of one tree give one digest;
// scripts/test-env's Docker engine runs it read-only as a non-root user against the test Postgres, MinIO and
// registry, its own health check reports it healthy, and an upload through the image's CLI is RELEASED with its image
// in the registry. The container's memory (docker stats) idle and under an upload is printed for the README.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildKilnImage, IMAGE_ENV, IMAGE_USER } from '../scripts/image/build';
import { containerMemory, docker, kilnTestImage, waitHealthy, type TestImage } from './helpers/kiln-image';
import { emptyS3Prefix, freePort, freshDatabase, requireEnv, testS3Env, type TestDatabase } from './helpers/test-config';
import { REPO_ROOT } from './helpers/kiln-process';
import { rssOf } from './helpers/proc';

const MiB = 1024 * 1024;

describe("Kiln's own image", { concurrency: false }, () => {
  let image: TestImage;
  before(async () => {
    image = await kilnTestImage();
  });

  it('is reproducible: two builds of the same tree, each bundling afresh, give the same digest', async () => {
    const first = await buildKilnImage({ base: 'host-node' });
    const second = await buildKilnImage({ base: 'host-node' });
    try {
      assert.equal(first.image.digest, second.image.digest, 'image digests');
      assert.deepEqual(first.image.manifest.layers.map((l) => l.digest), second.image.manifest.layers.map((l) => l.digest));
      // And the image the engine runs below is that image.
      assert.equal(image.digest, first.image.digest);
      console.log(`# kiln image ${first.image.digest} (twice); layers ${first.image.manifest.layers.map((l) => `${l.digest.slice(7, 19)} ${(l.size / MiB).toFixed(1)} MiB`).join(', ')}`);
    } finally {
      await first.dispose();
      await second.dispose();
    }
  });

  it('says what it is: non-root numeric user, entrypoint, health check, GLIBC_TUNABLES, labels with the commit', async () => {
    const config = JSON.parse(await docker('image', 'inspect', '-f', '{{json .Config}}', image.ref)) as {
      User: string; Env: string[]; Entrypoint: string[]; Healthcheck: { Test: string[] }; Labels: Record<string, string>;
    };
    assert.equal(config.User, IMAGE_USER);
    assert.deepEqual(config.Entrypoint, ['/usr/local/bin/node', '/opt/kiln/app/entrypoint.mjs']);
    assert.deepEqual(config.Healthcheck.Test, ['CMD', '/usr/local/bin/node', '/opt/kiln/app/entrypoint.mjs', 'health']);
    assert.ok(config.Env.includes(`GLIBC_TUNABLES=${IMAGE_ENV.GLIBC_TUNABLES}`), config.Env.join(' '));
    assert.ok(config.Env.includes('NODE_ENV=production'));
    assert.match(config.Labels['org.opencontainers.image.revision'] ?? '', /^[0-9a-f]{40}$/);
  });

  it('runs the kiln CLI: docker run IMAGE kiln --help', async () => {
    const out = await docker('run', '--rm', '--read-only', '--network', 'none', image.ref, 'kiln', '--help');
    assert.match(out, /^Usage: kiln /);
    assert.match(out, /upload/);
  });

  it('refuses an unknown service, naming the choices', async () => {
    await assert.rejects(docker('run', '--rm', '--network', 'none', image.ref, 'registri'), /unknown service "registri".*registry\|builder\|inference\|all/s);
  });

  describe('run for real (all three services, read-only root, user 65532) against the test Postgres, MinIO and registry', () => {
    const name = `kiln-image-test-${randomBytes(4).toString('hex')}`;
    const prefix = `image-test-${randomBytes(4).toString('hex')}`;
    const s3 = testS3Env(`${prefix}/`);
    let db: TestDatabase;
    let registryAddress: string;
    let work: string;
    const t = requireEnv('KILN_TEST_REGISTRY');

    before(async () => {
      db = await freshDatabase();
      work = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-image-test-'));
      await fs.chmod(work, 0o755);
      const [registry, builder, inference] = [await freePort(), await freePort(), await freePort()];
      registryAddress = `127.0.0.1:${registry}`;
      const env = {
        DATABASE_URL: db.url,
        ...s3,
        KILN_IMAGE_REGISTRY: t.KILN_TEST_REGISTRY,
        KILN_IMAGE_REGISTRY_INSECURE: 'true',
        KILN_IMAGE_PREFIX: prefix,
        // Host networking (the test servers listen on loopback): every port is one of the machine's.
        KILN_REGISTRY_LISTEN: registryAddress,
        KILN_BUILDER_LISTEN: `127.0.0.1:${builder}`,
        KILN_INFERENCE_LISTEN: `127.0.0.1:${inference}`,
        KILN_REGISTRY_METRICS_LISTEN: 'off',
        KILN_BUILDER_METRICS_LISTEN: 'off',
        KILN_INFERENCE_METRICS_LISTEN: 'off',
        KILN_HEALTH_INTERVAL_MS: '1000',
      };
      await docker(
        'run', '-d', '--name', name, '--network', 'host', '--read-only', '--tmpfs', '/tmp', '--user', '65532:65532',
        ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
        image.ref, 'all',
      );
    });

    after(async () => {
      await docker('rm', '-f', '-v', name).catch(() => {});
      await db?.drop();
      await emptyS3Prefix(`${prefix}/`).catch(() => {});
      if (work) await fs.rm(work, { recursive: true, force: true });
    });

    it('is healthy by its own health check, runs as 65532 with a read-only root', async () => {
      await waitHealthy(name);
      const state = JSON.parse(await docker('inspect', '-f', '{{json .}}', name)) as { State: { Pid: number; Health: { Log: Array<{ Output: string }> } }; HostConfig: { ReadonlyRootfs: boolean } };
      assert.equal(state.HostConfig.ReadonlyRootfs, true);
      assert.match(state.State.Health.Log.at(-1)!.Output, /registry: SERVING, builder: SERVING, inference: SERVING/);
      const status = await fs.readFile(`/proc/${state.State.Pid}/status`, 'utf8');
      assert.match(status, /^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
      // The root filesystem refuses writes.
      await assert.rejects(docker('exec', name, '/usr/local/bin/node', '-e', "require('fs').writeFileSync('/opt/kiln/x', '')"), /EROFS|read-only/);
    });

    it('takes an upload through its CLI: the version is RELEASED and its image is in the registry; memory idle and under upload', async () => {
      const idle = await containerMemory(name);
      // RSS too (it counts node's own code pages, ~40 MiB, which docker stats leaves out as file cache).
      const pid = Number(await docker('inspect', '-f', '{{.State.Pid}}', name));
      const idleRss = (await rssOf(pid)).rss;
      // A model of 256 MiB of weights with a hand-written contract, beside the example's.
      const model = path.join(work, 'big');
      await fs.mkdir(model);
      const manifest = (await fs.readFile(path.join(REPO_ROOT, 'examples/iris-onnx/kiln.yaml'), 'utf8')).replace('name: iris', 'name: big').replace('model.onnx', 'weights.bin');
      await fs.writeFile(path.join(model, 'kiln.yaml'), manifest);
      await new Promise<void>((resolve, reject) => {
        const out = createWriteStream(path.join(model, 'weights.bin'));
        for (let i = 0; i < 256; i++) out.write(randomBytes(MiB));
        out.end(resolve);
        out.on('error', reject);
      });
      const cli = (mount: string, ...args: string[]) =>
        docker('run', '--rm', '--network', 'host', '--read-only', '-v', `${mount}:/model:ro`, image.ref, 'kiln', '--address', registryAddress, ...args);

      const small = await cli(path.join(REPO_ROOT, 'examples/iris-onnx'), 'upload', '/model', '--name', 'iris', '--wait', '--quiet');
      assert.match(small, /iris:1\s+RELEASED/);

      let peak = idle;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          peak = Math.max(peak, await containerMemory(name).catch(() => 0));
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      const big = await cli(model, 'upload', '/model', '--name', 'big', '--wait', '--quiet').finally(() => (sampling = false));
      await sampler;
      assert.match(big, /big:1\s+RELEASED/);
      const after = await containerMemory(name);
      const { hwm } = await rssOf(pid);

      const got = JSON.parse(await cli(model, 'get', 'iris', '--json')) as { status: string; image?: { reference?: string; digest?: string } };
      assert.equal(got.status, 'MODEL_VERSION_STATUS_RELEASED');
      const res = await fetch(`http://${t.KILN_TEST_REGISTRY}/v2/${prefix}/default/iris/manifests/1`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      assert.equal(res.status, 200, 'the version image is in the test registry');
      console.log(`# kiln image memory (all three services, docker stats): idle ${(idle / MiB).toFixed(0)} MiB, peak during a 256 MiB upload ${(peak / MiB).toFixed(0)} MiB, after ${(after / MiB).toFixed(0)} MiB; the process's RSS idle ${(idleRss / MiB).toFixed(0)} MiB, high-water mark ${(hwm / MiB).toFixed(0)} MiB`);
    });
  });

  it('runs one service alone when KILN_SERVICE says which, and its health check checks only that one', async () => {
    const name = `kiln-image-test-inference-${randomBytes(4).toString('hex')}`;
    const port = await freePort();
    try {
      await docker('run', '-d', '--name', name, '--network', 'host', '--read-only', '--tmpfs', '/tmp',
        '-e', 'KILN_SERVICE=inference', '-e', `KILN_INFERENCE_LISTEN=127.0.0.1:${port}`, '-e', 'KILN_INFERENCE_METRICS_LISTEN=off', image.ref);
      await waitHealthy(name);
      const log = await docker('inspect', '-f', '{{(index .State.Health.Log 0).Output}}', name);
      assert.equal(log.trim(), 'inference: SERVING');
      console.log(`# kiln image memory (inference alone, idle): ${((await containerMemory(name)) / MiB).toFixed(0)} MiB`);
    } finally {
      await docker('rm', '-f', '-v', name).catch(() => {});
    }
  });
});
