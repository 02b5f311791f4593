// Test helper: Kiln's own image (scripts/image/build.ts) on a base made from this machine's node (no pulls), pushed
// to the test registry and pulled by scripts/test-env's Docker engine; and the `docker` command against that engine.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { buildKilnImage, writeKilnImage } from '../../scripts/image/build';
import { requireEnv } from './test-config';

const run = promisify(execFile);

/** `docker ARGS` against the test engine; rejects with the command's stderr. */
export async function docker(...args: string[]): Promise<string> {
  const { KILN_TEST_DOCKER_HOST: host } = requireEnv('KILN_TEST_DOCKER_HOST');
  try {
    const { stdout } = await run('docker', ['-H', host, ...args], { maxBuffer: 64 << 20, timeout: 10 * 60_000 });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

export interface TestImage {
  /** The reference the engine knows it by (in the test registry). */
  ref: string;
  digest: string;
}

let built: Promise<TestImage> | undefined;

/** Kiln's image, built once per test process, in the test registry and pulled into the test engine. */
export function kilnTestImage(): Promise<TestImage> {
  built ??= (async () => {
    const { KILN_TEST_REGISTRY: registry } = requireEnv('KILN_TEST_REGISTRY', 'KILN_TEST_DOCKER_HOST');
    const { image, dispose } = await buildKilnImage({ base: 'host-node' });
    const ref = `${registry}/kiln-image-test/kiln:${randomBytes(4).toString('hex')}`;
    try {
      await writeKilnImage(image, { push: ref, insecure: true });
    } finally {
      await dispose();
    }
    await docker('pull', '-q', ref);
    return { ref, digest: image.digest };
  })();
  return built;
}

/** Polls the container's health (the image's own Healthcheck) until it is healthy; fails on unhealthy or exit. */
export async function waitHealthy(container: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await docker('inspect', '-f', '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}', container);
    if (last.endsWith(' healthy')) return;
    if (last.startsWith('exited') || last.endsWith('unhealthy')) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const logs = await docker('logs', '--tail', '30', container).catch((e: Error) => e.message);
  const health = await docker('inspect', '-f', '{{json .State.Health}}', container).catch(() => '');
  throw new Error(`${container} is not healthy (${last}) after ${timeoutMs} ms\nhealth: ${health}\nlogs:\n${logs}`);
}

/** A container's memory use as `docker stats` reports it (the cgroup's usage less its file cache), in bytes. */
export async function containerMemory(container: string): Promise<number> {
  const usage = (await docker('stats', '--no-stream', '--format', '{{.MemUsage}}', container)).split('/')[0].trim();
  const m = /^([\d.]+)\s*([KMG]i?B|B)$/.exec(usage);
  if (!m) throw new Error(`docker stats said ${usage}`);
  const unit = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9 }[m[2]] ?? 1;
  return Number(m[1]) * unit;
}
