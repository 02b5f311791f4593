// End to end: deploy/compose/compose.yaml started for real by Debian's docker-compose against scripts/test-env's
// Docker engine, on images built here (Kiln's own, and Postgres, MinIO, the registry and curl from this machine's
// binaries: nothing is pulled). Kiln comes up healthy behind its dependencies, an upload through the image's CLI on
// the compose network is RELEASED with its image in the compose registry, and `down -v` leaves nothing behind.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadLocalImages } from '../scripts/image/local-deps';
import { containerMemory, docker, kilnTestImage, waitHealthy, type TestImage } from './helpers/kiln-image';
import { REPO_ROOT } from './helpers/kiln-process';
import { freePort, requireEnv } from './helpers/test-config';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const COMPOSE_FILE = path.join(REPO_ROOT, 'deploy/compose/compose.yaml');

describe('deploy/compose: Postgres, MinIO, a registry and Kiln on one host', { concurrency: false }, () => {
  const { KILN_TEST_DOCKER_HOST: dockerHost } = requireEnv('KILN_TEST_DOCKER_HOST');
  const project = `kiln-compose-test-${randomBytes(4).toString('hex')}`;
  const token = `kiln_${randomBytes(32).toString('hex')}`;
  let image: TestImage;
  let env: NodeJS.ProcessEnv;
  let kiln = '';

  const compose = async (...args: string[]) => {
    try {
      return (await run('docker-compose', ['-f', COMPOSE_FILE, '-p', project, ...args], { env, maxBuffer: 16 * MiB, timeout: 5 * 60_000 })).stdout.trim();
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`docker-compose ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
    }
  };

  before(async () => {
    image = await kilnTestImage();
    await loadLocalImages(dockerHost);
    env = {
      ...process.env,
      DOCKER_HOST: dockerHost,
      KILN_IMAGE: image.ref,
      KILN_POSTGRES_IMAGE: 'kiln-local/postgres:15',
      KILN_MINIO_IMAGE: 'kiln-local/minio:latest',
      KILN_REGISTRY_IMAGE: 'kiln-local/registry:2',
      KILN_CURL_IMAGE: 'kiln-local/curl:latest',
      KILN_TOKEN: token,
      KILN_SERVICE_TOKEN: randomBytes(32).toString('hex'),
      // The test engine publishes no ports (no iptables, no proxy); distinct ones anyway, should another engine run it.
      KILN_PORT: String(await freePort()),
      KILN_REGISTRY_PORT: String(await freePort()),
    };
    await compose('up', '-d');
    kiln = await compose('ps', '-q', 'kiln');
  });

  after(async () => {
    if (env) {
      const logs = await compose('logs', '--no-color', '--tail', '20').catch(() => '');
      if (process.env.KILN_TEST_VERBOSE) console.log(logs);
      await compose('down', '-v', '--remove-orphans');
    }
  });

  it('starts Kiln once Postgres is healthy and the bucket is made, and Kiln turns healthy by its own check', async () => {
    assert.ok(kiln, 'the kiln container exists');
    await waitHealthy(kiln, 120_000);
    const bucket = await compose('logs', '--no-color', 'minio-bucket');
    assert.match(bucket, /bucket kiln: (200|409)/);
    assert.equal(await docker('inspect', '-f', '{{.HostConfig.ReadonlyRootfs}} {{.Config.User}}', kiln), 'true 65532:65532');
  });

  it('takes an upload on the compose network: RELEASED, its image in the compose registry; memory of the kiln container', async () => {
    // Kiln shares the registry's network namespace; the name `kiln` reaches it on the compose network.
    const registry = await compose('ps', '-q', 'registry');
    const network = await docker('inspect', '-f', '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}}{{end}}', registry);
    const idle = await containerMemory(kiln);
    const t0 = Date.now();
    const out = await docker(
      'run', '--rm', '--network', network, '--read-only', '-e', `KILN_TOKEN=${token}`,
      '-v', `${path.join(REPO_ROOT, 'examples/iris-onnx')}:/model:ro`,
      image.ref, 'kiln', '--address', 'kiln:50051', 'upload', '/model', '--name', 'iris', '--wait', '--quiet',
    );
    assert.match(out, /iris:1\s+RELEASED/);
    assert.ok(Date.now() - t0 < 20_000, `built at the first attempt, the registry up before Kiln (${Date.now() - t0} ms)`);
    assert.match(out, /127\.0\.0\.1:5000\/kiln\/default\/iris:1@sha256:[0-9a-f]{64}/);
    // Asked in its own network namespace (Kiln's too), the registry has the version's manifest.
    const code = await docker(
      'run', '--rm', '--network', `container:${registry}`, 'kiln-local/curl:latest', '-s', '-o', '/dev/null', '-w', '%{http_code}',
      '-H', 'accept: application/vnd.oci.image.manifest.v1+json', 'http://127.0.0.1:5000/v2/kiln/default/iris/manifests/1',
    );
    assert.equal(code, '200');
    console.log(`# compose kiln container memory (docker stats): idle ${(idle / MiB).toFixed(0)} MiB, after an upload ${((await containerMemory(kiln)) / MiB).toFixed(0)} MiB`);
  });

  it('a new Kiln container (docker-compose up after a change) joins the registry\'s network again and still pushes', async () => {
    env.KILN_LOG_LEVEL = 'warn'; // a changed setting: compose recreates the kiln container only
    await compose('up', '-d');
    const recreated = await compose('ps', '-q', 'kiln');
    assert.notEqual(recreated, kiln, 'the kiln container was recreated');
    kiln = recreated;
    await waitHealthy(kiln, 120_000);
    const registry = await compose('ps', '-q', 'registry');
    const network = await docker('inspect', '-f', '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}}{{end}}', registry);
    const t0 = Date.now();
    const out = await docker(
      'run', '--rm', '--network', network, '--read-only', '-e', `KILN_TOKEN=${token}`,
      '-v', `${path.join(REPO_ROOT, 'examples/iris-onnx')}:/model:ro`,
      image.ref, 'kiln', '--address', 'kiln:50051', 'upload', '/model', '--name', 'iris', '--wait', '--quiet',
    );
    assert.match(out, /iris:2\s+RELEASED/);
    assert.ok(Date.now() - t0 < 20_000, `built at the first attempt (${Date.now() - t0} ms)`);
  });

  it('down -v removes its containers and volumes', async () => {
    await compose('down', '-v', '--remove-orphans');
    assert.equal(await docker('ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${project}`), '');
    assert.equal(await docker('volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`), '');
  });
});
