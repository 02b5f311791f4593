// The registry's memory over a streamed upload, measured where it runs: the registry alone as a subprocess (as npm
// start runs services; real Postgres and MinIO), its resident memory read from /proc while a 2 GiB model streams
// through it. Flat: what it holds late in the upload is what it held early on.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { registryClient, type RegistryClient } from '@kiln/api';
import { uploadStream } from './helpers/grpc';
import { startKilnProcess, type KilnProcess } from './helpers/kiln-process';
import { rssOf } from './helpers/proc';

const MiB = 1024 * 1024;

describe('registry memory during a 2 GiB upload', () => {
  let inference: KilnProcess;
  let registry: KilnProcess;
  let client: RegistryClient;

  before(async () => {
    inference = await startKilnProcess({ script: 'services/inference/src/main.ts', services: ['kiln.v1.Inference'] });
    registry = await startKilnProcess({
      script: 'services/registry/src/main.ts',
      services: ['kiln.v1.Registry'],
      // No builder: the version's build waits in the queue, and only the upload path is measured.
      env: { KILN_INFERENCE_ADDRESS: inference.inference, KILN_BUILDER_ADDRESS: '127.0.0.1:9' },
    });
    client = registryClient(registry.registry);
  });

  after(async () => {
    client?.close();
    await registry?.stop();
    await inference?.stop();
  });

  it('stays flat: its peak over the last 0.5 GiB is within 32 MiB of the first 0.5 GiB, its high-water mark under 224 MiB', async (t) => {
    const block = randomBytes(MiB);
    const blocks = 2048;
    const window = 512; // MiB at each end
    const idle = (await rssOf(registry.pid)).rss;
    let sent = 0;
    const peaks = { early: idle, late: 0 };
    const sample = async () => {
      const { rss } = await rssOf(registry.pid).catch(() => ({ rss: 0 }));
      if (sent <= window) peaks.early = Math.max(peaks.early, rss);
      else if (sent >= blocks - window) peaks.late = Math.max(peaks.late, rss);
    };
    const sampler = setInterval(() => void sample(), 25);
    const hash = createHash('sha256');
    const body = Readable.from(
      (function* () {
        for (; sent < blocks; sent++) {
          const b = Buffer.from(block); // each MiB differs, so no layer of the path can dedupe repeated bytes
          b.writeUInt32LE(sent, 0);
          hash.update(b);
          yield b;
        }
      })(),
    );
    try {
      const v = await uploadStream(client, { model: 'two-gib', fileName: 'weights.bin' }, body);
      assert.equal(v.totalSize, blocks * MiB);
      assert.equal(v.files[0].sha256, hash.digest('hex'));
    } finally {
      clearInterval(sampler);
    }
    const mib = (n: number) => `${Math.round(n / MiB)} MiB`;
    const peak = (await rssOf(registry.pid)).hwm; // the kernel's high-water mark: spikes between samples count too
    t.diagnostic(`registry RSS: idle ${mib(idle)}, peak over the first 0.5 GiB ${mib(peaks.early)}, over the last ${mib(peaks.late)}, VmHWM ${mib(peak)}`);
    assert.ok(peaks.late > 0, 'sampled during the upload');
    // -8 to +19 MiB apart in runs here, and flat over 6 GiB; with young-generation collections alone (no full one
    // every GiB, libs/api/src/upload-gc.ts) the peaks were up to 34 MiB apart and 6 GiB crept by 50 MiB.
    assert.ok(peaks.late - peaks.early < 32 * MiB, `RSS grew from ${mib(peaks.early)} to ${mib(peaks.late)} as the upload went on`);
    // 171 to 205 MiB in runs here; bench/upload measures the < 200 MB goal (199 to 243 MiB there before npm start's
    // malloc setting, the part slab and the collections paced by upload bytes).
    assert.ok(peak < 224 * MiB, `registry peaked at ${mib(peak)} during a 2 GiB upload`);
  });
});
