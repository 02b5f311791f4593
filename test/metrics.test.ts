// Prometheus metrics: Kiln as a subprocess with its /metrics endpoints; after real calls (uploads, gets, a
// NOT_FOUND, a watch, a download, builds) the per-RPC, upload and build metrics have moved by what was done.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registryClient, type RegistryClient } from '@kiln/api';
import { metricsEndpointFor } from '@kiln/api/metrics';
import { loadConfig } from '@kiln/config';
import { unary, uploadStream, watchAll } from './helpers/grpc';
import { REPO_ROOT, startKilnProcess, type KilnProcess } from './helpers/kiln-process';

const ONNX = path.join(REPO_ROOT, 'test', 'fixtures', 'third-party', 'hydrosphere', 'onnx_mnist', 'mnist.onnx');

type Samples = Array<{ name: string; labels: Record<string, string>; value: number }>;

function parse(text: string): Samples {
  const out: Samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples named `name` whose labels include `labels`. */
function sum(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

async function scrape(url: string): Promise<Samples> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  return parse(await res.text());
}

describe('metrics configuration', () => {
  it('defaults to 127.0.0.1:9451/9452/9453, and 0 or off disables an endpoint', () => {
    assert.deepEqual(loadConfig({}).metrics, { registry: '127.0.0.1:9451', builder: '127.0.0.1:9452', inference: '127.0.0.1:9453' });
    const c = loadConfig({ KILN_REGISTRY_METRICS_LISTEN: 'off', KILN_BUILDER_METRICS_LISTEN: '0', KILN_INFERENCE_METRICS_LISTEN: '0.0.0.0:9999' });
    assert.deepEqual(c.metrics, { registry: undefined, builder: undefined, inference: '0.0.0.0:9999' });
  });
});

describe('metrics endpoints of live Kiln', () => {
  let kiln: KilnProcess;
  let client: RegistryClient;
  const model = `metrics-${Date.now().toString(36)}`;
  const R = { grpc_service: 'kiln.v1.Registry' };

  before(async () => {
    kiln = await startKilnProcess();
    client = registryClient(kiln.registry);
  });
  after(async () => {
    client?.close();
    await kiln?.stop();
  });

  it('per-RPC calls, codes and latency, upload bytes, builds and queue depth move with the calls made', async () => {
    const before = await scrape(kiln.metrics.registry);
    const bytes = await readFile(ONNX);
    const header = { model, format: 'ARCHIVE_FORMAT_FILE' as const, fileName: 'mnist.onnx' };
    await uploadStream(client, header, bytes);
    await uploadStream(client, header, bytes);
    await unary(client, 'GetModelVersion', { model, version: 1 });
    await assert.rejects(unary(client, 'GetModelVersion', { model, version: 99 }), /NOT_FOUND|no version 99/);
    await watchAll(client, model, 1);
    await watchAll(client, model, 2);
    for await (const _ of client.DownloadModelVersion({ model, version: 1 })) { /* drain */ }
    const now = await scrape(kiln.metrics.registry);
    const moved = (name: string, labels: Record<string, string> = {}) => sum(now, name, labels) - sum(before, name, labels);

    // The builder reads versions through the registry too, so GetModelVersion OKs are at least ours.
    const get = { ...R, grpc_method: 'GetModelVersion', grpc_type: 'unary' };
    const gets = moved('grpc_server_started_total', get);
    assert.ok(moved('grpc_server_handled_total', { ...get, grpc_code: 'OK' }) >= 1);
    assert.equal(moved('grpc_server_handled_total', { ...get, grpc_code: 'NOT_FOUND' }), 1);
    assert.equal(moved('grpc_server_handled_total', get), gets, 'every started call ended with a code');
    assert.equal(moved('grpc_server_handling_seconds_count', get), gets);
    assert.ok(moved('grpc_server_handling_seconds_sum', get) > 0);
    assert.equal(moved('grpc_server_handling_seconds_bucket', { ...get, le: '+Inf' }), gets);

    const upload = { ...R, grpc_method: 'UploadModel', grpc_type: 'client_stream' };
    assert.equal(moved('grpc_server_handled_total', { ...upload, grpc_code: 'OK' }), 2);
    assert.equal(moved('grpc_server_handled_total', { ...R, grpc_method: 'WatchModelVersion', grpc_type: 'server_stream', grpc_code: 'OK' }), 2);
    assert.ok(moved('grpc_server_handled_total', { ...R, grpc_method: 'DownloadModelVersion', grpc_type: 'server_stream', grpc_code: 'OK' }) >= 1);

    assert.equal(moved('kiln_registry_upload_bytes_total'), 2 * bytes.length);

    // Both versions are final (the watches ended), so both builds are counted, with their durations.
    const outcomes = ['released', 'failed'].map((outcome) => moved('kiln_registry_builds_total', { outcome }));
    assert.equal(outcomes[0] + outcomes[1], 2, `builds by outcome: ${outcomes}`);
    assert.equal(moved('kiln_registry_build_duration_seconds_count'), 2);
    const depth = now.find((s) => s.name === 'kiln_registry_build_queue_depth');
    assert.ok(depth && depth.value >= 0, 'the queue depth gauge is read at scrape time');

    // The other services' calls: contract inference for each upload, a build for each version.
    assert.ok(moved('grpc_server_handled_total', { grpc_service: 'kiln.v1.Inference', grpc_code: 'OK' }) >= 2);
    assert.ok(moved('grpc_server_handled_total', { grpc_service: 'kiln.v1.Builder', grpc_code: 'OK' }) >= 2);
    // Node's process metrics come along.
    assert.ok(now.some((s) => s.name === 'process_cpu_user_seconds_total'));
  });

  it('one process serves one /metrics endpoint, the registry\'s, with every service\'s metrics; nothing else', async () => {
    const samples = await scrape(kiln.metrics.registry);
    for (const service of ['kiln.v1.Registry', 'kiln.v1.Builder', 'kiln.v1.Inference']) {
      assert.ok(samples.some((s) => s.name === 'grpc_server_started_total' && s.labels.grpc_service === service), service);
    }
    const other = await fetch(kiln.metrics.registry.replace(/\/metrics$/, '/other'));
    assert.equal(other.status, 404);
    // The builder's and inference's settings are not bound in this process: a scrape of all three would count
    // each call three times.
    for (const url of [kiln.metrics.builder, kiln.metrics.inference]) {
      await assert.rejects(fetch(url), /fetch failed/, url);
    }
  });
});

describe('metrics endpoint choice', () => {
  it('is the first of registry, builder, inference running in the process with its endpoint enabled', () => {
    const all = { registry: 'r:1', builder: 'b:2', inference: 'i:3' };
    assert.deepEqual(metricsEndpointFor(['inference', 'builder', 'registry'], all), { service: 'registry', address: 'r:1' });
    assert.deepEqual(metricsEndpointFor(['inference', 'builder', 'registry'], { ...all, registry: undefined }), { service: 'builder', address: 'b:2' });
    assert.deepEqual(metricsEndpointFor(['inference'], all), { service: 'inference', address: 'i:3' });
    assert.equal(metricsEndpointFor(['builder'], { ...all, builder: undefined }), undefined);
  });
});
