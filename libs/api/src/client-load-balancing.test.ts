// Kiln's clients balance calls over every address a dns: or ipv4: target resolves to (round_robin), as a Kubernetes headless
// Service's name resolves to every replica: two registries behind one target both answer.
import assert from 'node:assert/strict';
import test from 'node:test';
import { pino } from 'pino';
import { notFound } from '@kiln/errors';
import { grpc, kilnProto, registryClient } from './index';
import { startServer, type ServiceRegistration } from './server';
import type { RegistryImplementation } from './handlers';

const silent = pino({ level: 'silent' });

test('a client spreads its calls over every address its target resolves to', async (t) => {
  const servers = await Promise.all(['first', 'second'].map((name) => {
    const registration: ServiceRegistration = {
      name: 'kiln.v1.Registry',
      definition: kilnProto().kiln.v1.Registry.service,
      // Each replica says who it is in its error.
      implementation: { GetModelVersion: async () => { throw notFound(`answered by ${name}`); } } as unknown as RegistryImplementation,
    };
    return startServer([registration], '127.0.0.1:0', silent);
  }));
  // The ipv4: scheme lists several addresses for one target, as a DNS answer with several records does.
  const client = registryClient(`ipv4:${servers.map((s) => s.address).join(',')}`);
  t.after(async () => {
    client.close();
    await Promise.all(servers.map((s) => s.shutdown(1000)));
  });
  const answered = new Map<string, number>();
  for (let i = 0; i < 20; i++) {
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      client.GetModelVersion({ model: 'm', version: 1 }, { deadline: Date.now() + 10_000 }, (e) => resolve(e as grpc.ServiceError)));
    assert.equal(err.code, grpc.status.NOT_FOUND, err.message);
    const who = /first|second/.exec(err.details)?.[0] ?? err.details;
    answered.set(who, (answered.get(who) ?? 0) + 1);
  }
  assert.deepEqual([...answered.keys()].sort(), ['first', 'second'], `answers: ${JSON.stringify([...answered])}`);
  assert.ok(Math.abs(answered.get('first')! - answered.get('second')!) <= 2, `balanced: ${JSON.stringify([...answered])}`);
});
