// End to end under CPU load: rounds of concurrent builds sharing a new weight file, against a real Distribution
// registry, each of which must release and send the weight once. Guards the race where a build's manifest reached
// the registry while another build was writing the same blob's link into that repository.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { builderClient } from '@kiln/api';
import type { BuildModelVersionResponse__Output } from '@kiln/api/generated/kiln/v1/BuildModelVersionResponse';
import { seededBytes } from '@kiln/oci/testing/model-files';
import { startTestRegistry, uploadedBlobs, type TestRegistry } from '@kiln/oci/testing/registry-server';
import { startKiln, uploadModel, waitForBuild, type RunningKiln } from './helpers/services';
import { freePort, requireEnv } from './helpers/test-config';

const MiB = 1024 * 1024;
/** Rounds, each with a weight file no build has seen. */
const ROUNDS = 10;
/** Models sharing a round's weight file: each has its queued build. */
const MODELS = ['a', 'b', 'c'];
/** Builds called directly, each as soon as its version exists, on top of the queued ones: two versions built three
 * times at once (into one repository), the third once. */
const DIRECT = ['a', 'a', 'b', 'b'];
/** The builder gives files over 1 MiB a layer of their own here (16 MiB by default): small weights, fast rounds. */
const LARGE_FILE_THRESHOLD = MiB;
const WEIGHT_BYTES = 2 * MiB + 4096;

const missing = ['KILN_TEST_DATABASE_URL', 'KILN_TEST_S3_ENDPOINT', 'KILN_TEST_REGISTRY'].filter((v) => !process.env[v]);

if (missing.length) {
  it('the builder stress test needs the servers of scripts/test-env', () => {
    assert.fail(`${missing.join(', ')} not set: run through scripts/test, or eval "$(bash scripts/test-env start)" first`);
  });
} else {
  requireEnv('KILN_TEST_DATABASE_URL', 'KILN_TEST_S3_ENDPOINT', 'KILN_TEST_REGISTRY');

  describe('concurrent builds sharing weight files, under CPU load', () => {
    let registry: TestRegistry;
    let kiln: RunningKiln;
    const busy: ChildProcess[] = [];

    before(async () => {
      registry = await startTestRegistry(await freePort());
      kiln = await startKiln({ env: { KILN_IMAGE_REGISTRY: registry.address }, builderLargeFileThreshold: LARGE_FILE_THRESHOLD });
    });
    after(async () => {
      for (const child of busy) child.kill('SIGKILL');
      await kiln?.stop();
      await registry?.stop();
    });

    /** One build called on the builder directly: its log lines and result, or the error it ended with. */
    async function buildDirectly(model: string, version: number): Promise<{ digest?: string; error?: Error; log: string[] }> {
      const log: string[] = [];
      try {
        let digest: string | undefined;
        for await (const e of builderClient(kiln.builder).BuildModelVersion({ model, version })) {
          const event = e as BuildModelVersionResponse__Output;
          if (event.log) log.push(event.log.line);
          if (event.result) digest = event.result.imageDigest;
        }
        return { digest, log };
      } catch (err) {
        return { error: err as Error, log };
      }
    }

    it(`releases ${ROUNDS} rounds of ${DIRECT.length} direct and ${MODELS.length} queued builds sharing a new weight file, sending it once a round`, async () => {
      // Busy loops on every core: the registry, the builder and the test compete for CPU, as on a loaded CI machine.
      for (let i = 0; i < Math.min(2, os.availableParallelism()); i++) {
        busy.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
      }
      const repository = (model: string) => `${kiln.config.images.prefix}/default/${model}`;
      for (let round = 1; round <= ROUNDS; round++) {
        const weight = seededBytes(1000 + round, WEIGHT_BYTES);
        const name = (m: string) => `stress-${round}-${m}`;
        const mark = await registry.mark();
        const versions = new Map<string, number>();
        const direct = (await Promise.all(MODELS.map(async (m) => {
          const v = await uploadModel(kiln.client, name(m), [{ path: 'w.bin', content: weight }, { path: `${m}.txt`, content: `${m} ${round}\n` }]);
          versions.set(m, v.version);
          return Promise.all(DIRECT.filter((d) => d === m).map((d) => buildDirectly(name(d), v.version)));
        }))).flat();
        for (const [i, result] of direct.entries()) {
          assert.ok(!result.error && result.digest, `round ${round}, direct build of ${name(DIRECT[i])}: ${result.error?.message}\n${result.log.join('\n')}`);
        }
        assert.equal(direct[0].digest, direct[1].digest, `round ${round}: one version, one digest`);
        assert.equal(direct[2].digest, direct[3].digest, `round ${round}: one version, one digest`);
        for (const m of MODELS) {
          const { version, log } = await waitForBuild(kiln.client, name(m), versions.get(m)!);
          assert.equal(version.status, 'MODEL_VERSION_STATUS_RELEASED', `round ${round}, ${name(m)}: ${version.failureReason}\n${log.join('\n')}`);
        }
        const layerLine = direct.flatMap((d) => d.log).find((l) => l.startsWith('layer ') && l.includes('/model/w.bin'));
        assert.ok(layerLine, direct.flatMap((d) => d.log).join('\n'));
        const weightLayer = layerLine.split(' ')[1];
        const received = await registry.requests(mark);
        assert.deepEqual(uploadedBlobs(received).filter((d) => d === weightLayer), [weightLayer], `round ${round}: the weight layer's bytes went once`);
        for (const m of MODELS) {
          const res = await fetch(`http://${registry.address}/v2/${repository(name(m))}/manifests/${versions.get(m)}`, {
            headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
          });
          assert.equal(res.status, 200, `round ${round}: ${name(m)} has its manifest`);
          const manifest = (await res.json()) as { layers: Array<{ digest: string }> };
          assert.ok(manifest.layers.some((l) => l.digest === weightLayer), `round ${round}: ${name(m)} lists the weight layer`);
          const blob = await fetch(`http://${registry.address}/v2/${repository(name(m))}/blobs/${weightLayer}`, { method: 'HEAD' });
          assert.equal(blob.status, 200, `round ${round}: ${name(m)} serves the weight layer`);
        }
      }
    });
  });
}
