// Where the services reach one another: one address as given, the replicas' IP:port list as a gRPC ipv4:/ipv6:
// target (called round robin by libs/api), anything else in a list refused with what to write instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './index';

test('one address, or any gRPC target, is kept as written; unset is the listen address', () => {
  const a = loadConfig({ KILN_BUILDER_ADDRESS: 'builder.internal:50052', KILN_INFERENCE_ADDRESS: 'dns:///inference.kiln.svc:50053' }).addresses;
  assert.equal(a.builder, 'builder.internal:50052');
  assert.equal(a.inference, 'dns:///inference.kiln.svc:50053');
  assert.equal(a.registry, '127.0.0.1:50051');
});

test('a comma-separated list of replicas becomes an ipv4: or ipv6: target, spaces and empty entries dropped', () => {
  const a = loadConfig({ KILN_BUILDER_ADDRESS: '10.0.0.21:50052, 10.0.0.22:50052,', KILN_REGISTRY_ADDRESS: '[fd00::1]:50051,[fd00::2]:50051' }).addresses;
  assert.equal(a.builder, 'ipv4:10.0.0.21:50052,10.0.0.22:50052');
  assert.equal(a.registry, 'ipv6:[fd00::1]:50051,[fd00::2]:50051');
});

test('a list of host names, or of two address families, is refused, naming the variable and the dns: way', () => {
  for (const list of ['builder-1:50052,builder-2:50052', '10.0.0.1:50052,[fd00::1]:50052', '10.0.0.1,10.0.0.2']) {
    assert.throws(() => loadConfig({ KILN_BUILDER_ADDRESS: list }), /KILN_BUILDER_ADDRESS: a list of replicas is IP:port entries .*dns:\/\/\//);
  }
});
