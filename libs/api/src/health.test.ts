// grpc.health.v1 over real calls, following dependency probes: NOT_SERVING for the service that needs a dependency
// (and for '') while it fails or hangs, SERVING again by itself once it answers; a hanging probe is never run twice
// at once, and calls do not wait for probes.
import assert from 'node:assert/strict';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { service as healthService } from 'grpc-health-check';
import { pino } from 'pino';
import { grpc, inferenceClient, kilnProto } from './index';
import { promiseClient } from './client';
import type { InferenceImplementation } from './handlers';
import { startServer, type DependencyProbe } from './server';

const silent = pino({ level: 'silent' });
const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

async function serverWith(t: test.TestContext, dependencies: DependencyProbe[]) {
  const implementation = {
    InferContract: async () => ({ contract: null, metadata: {}, format: 'manifest' }),
    InferContractFromUpload: async () => { throw new Error('not called'); },
  } as unknown as InferenceImplementation;
  const server = await startServer(
    [{ name: 'kiln.v1.Inference', definition: kilnProto().kiln.v1.Inference.service, implementation, dependencies }],
    '127.0.0.1:0',
    silent,
    { health: { intervalMs: 50, timeoutMs: 200 } },
  );
  const health = new HealthClient(server.address, grpc.credentials.createInsecure());
  const inference = inferenceClient(server.address);
  t.after(async () => {
    health.close();
    inference.close();
    await server.shutdown(1000);
  });
  const check = (service: string) =>
    new Promise<string>((resolve, reject) =>
      (health as unknown as Record<string, Function>).check({ service }, (err: Error | null, res?: { status: string }) => (err ? reject(err) : resolve(res!.status))),
    );
  /** Both entries, once they have settled at `status` (rounds are 50 ms apart). */
  const becomes = async (status: string) => {
    const deadline = Date.now() + 3000;
    let seen: string[] = [];
    while (Date.now() < deadline) {
      seen = [await check('kiln.v1.Inference'), await check('')];
      if (seen.every((s) => s === status)) return;
      await sleep(20);
    }
    assert.fail(`health is ${seen.join(', ')}, not ${status}`);
  };
  return { becomes, client: promiseClient(inference) };
}

test('a dependency that fails makes its service and the server NOT_SERVING, and SERVING again once it answers', async (t) => {
  let down = false;
  const { becomes } = await serverWith(t, [{ name: 'postgres', check: async () => { if (down) throw new Error('ECONNREFUSED'); } }]);
  await becomes('SERVING');
  down = true;
  await becomes('NOT_SERVING');
  down = false;
  await becomes('SERVING');
});

test('a dependency that hangs is NOT_SERVING after the timeout, is not probed again while it hangs, and calls do not wait', async (t) => {
  let hang: Promise<void> | undefined;
  let release = () => {};
  let checks = 0;
  const probe: DependencyProbe = {
    name: 'blob store',
    check: () => {
      checks += 1;
      return hang ?? Promise.resolve();
    },
  };
  const { becomes, client } = await serverWith(t, [probe]);
  await becomes('SERVING');
  hang = new Promise<void>((resolve) => (release = resolve));
  await becomes('NOT_SERVING');
  const before = checks;
  await sleep(500); // ten rounds
  assert.equal(checks, before, 'no second check beside the one still hanging');
  const started = performance.now();
  await client.InferContract({ path: '/x' });
  assert.ok(performance.now() - started < 100, 'the call answered without waiting for the probe');
  hang = undefined;
  release();
  await becomes('SERVING');
});
