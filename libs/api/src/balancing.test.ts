// Which clients spread their calls over replicas: address lists and dns: names round robin, one address pick-first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { balancing, builderClient } from './index';

test('ipv4:, ipv6: and dns: targets are called round robin; one host:port keeps gRPC\'s default', () => {
  for (const target of ['ipv4:127.0.0.1:1,127.0.0.1:2', 'ipv6:[::1]:1,[::1]:2', 'dns:///builders.kiln.svc:50052']) {
    assert.deepEqual(JSON.parse(String(balancing(target)['grpc.service_config'])), { loadBalancingConfig: [{ round_robin: {} }] }, target);
  }
  assert.deepEqual(balancing('127.0.0.1:50052'), {});
  assert.deepEqual(balancing('builder.internal:50052'), {});
});

test('a client of a replica list starts (grpc-js parses the target and the service config)', () => {
  const client = builderClient('ipv4:127.0.0.1:1,127.0.0.1:2');
  assert.equal(client.getChannel().getTarget(), 'ipv4:127.0.0.1:1,127.0.0.1:2');
  client.close();
});
