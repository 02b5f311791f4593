// grpcurl against Kiln started as a subprocess: reflection lists and describes the API, calls return the canonical
// proto3 JSON that toProto3Json (libs/api/src/json.ts) gives for the same messages, and health answers SERVING.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kilnProto, registryClient, type RegistryClient } from '@kiln/api';
import { toProto3Json } from '@kiln/api/json';
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import type { ListModelsResponse__Output } from '@kiln/api/generated/kiln/v1/ListModelsResponse';
import { unary, uploadStream, watchAll } from './helpers/grpc';
import { REPO_ROOT, sdkTools, startKilnProcess, type KilnProcess } from './helpers/kiln-process';

const ONNX = path.join(REPO_ROOT, 'test', 'fixtures', 'third-party', 'hydrosphere', 'onnx_mnist', 'mnist.onnx');

describe('grpcurl against live Kiln', () => {
  let kiln: KilnProcess;
  let grpcurl: string;
  let client: RegistryClient;
  const model = `grpcurl-${Date.now().toString(36)}`;

  const call = (args: string[]): Promise<string> =>
    new Promise<string>((resolve, reject) =>
      execFile(grpcurl, ['-plaintext', ...args], { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
        err ? reject(new Error(`grpcurl ${args.join(' ')} failed: ${stderr || err.message}`)) : resolve(stdout),
      ),
    );

  before(async () => {
    grpcurl = (await sdkTools()).grpcurl;
    assert.ok(grpcurl, 'no grpcurl: scripts/sdk-env should have built one');
    kiln = await startKilnProcess();
    client = registryClient(kiln.registry);
    const bytes = await readFile(ONNX);
    for (let i = 0; i < 2; i++) {
      const v = await uploadStream(client, { model, format: 'ARCHIVE_FORMAT_FILE', fileName: 'mnist.onnx', labels: { via: 'grpcurl-test' } }, bytes);
      // A final version no longer changes, so grpcurl and the TS client see the same message.
      await watchAll(client, model, v.version);
    }
  });
  after(async () => {
    client?.close();
    await kiln?.stop();
  });

  it('lists each server\'s services through reflection', async () => {
    const lines = (out: string) => out.trim().split('\n').sort();
    assert.deepEqual(lines(await call([kiln.registry, 'list'])), ['grpc.health.v1.Health', 'kiln.v1.Registry']);
    assert.deepEqual(lines(await call([kiln.inference, 'list'])), ['grpc.health.v1.Health', 'kiln.v1.Inference']);
    assert.deepEqual(lines(await call([kiln.builder, 'list'])), ['grpc.health.v1.Health', 'kiln.v1.Builder']);
    // Reflection lists every method the proto declares (read from proto/ by @kiln/api's loader, not by reflection).
    const declared = Object.keys(kilnProto().kiln.v1.Registry.service).map((m) => `kiln.v1.Registry.${m}`).sort();
    assert.ok(declared.includes('kiln.v1.Registry.UploadModel') && declared.length > 10);
    assert.deepEqual(lines(await call([kiln.registry, 'list', 'kiln.v1.Registry'])), declared);
  });

  it('describes kiln.v1.Registry, kiln.v1.Inference, kiln.v1.Builder and their messages as the protos declare them', async () => {
    const registry = await call([kiln.registry, 'describe', 'kiln.v1.Registry']);
    assert.match(registry, /kiln\.v1\.Registry is a service/);
    assert.match(registry, /rpc GetModelVersion \( \.kiln\.v1\.GetModelVersionRequest \) returns \( \.kiln\.v1\.ModelVersion \);/);
    assert.match(registry, /rpc UploadModel \( stream \.kiln\.v1\.UploadModelRequest \) returns \( \.kiln\.v1\.ModelVersion \);/);
    assert.match(registry, /rpc WatchModelVersion \( \.kiln\.v1\.WatchModelVersionRequest \) returns \( stream \.kiln\.v1\.WatchModelVersionResponse \);/);
    const mv = await call([kiln.registry, 'describe', 'kiln.v1.ModelVersion']);
    assert.match(mv, /kiln\.v1\.ModelVersion is a message/);
    // Proto field names (not camelCase), map fields, imported well-known types and other files' types all resolve.
    assert.match(mv, /\.google\.protobuf\.Timestamp create_time = 5;/);
    assert.match(mv, /map<string, string> labels = 9;/);
    assert.match(mv, /\.kiln\.v1\.Contract contract = 11;/);
    assert.match(mv, /string image_reference = 12;/);

    const inference = await call([kiln.inference, 'describe', 'kiln.v1.Inference']);
    assert.match(inference, /kiln\.v1\.Inference is a service/);
    assert.match(inference, /rpc InferContract \( \.kiln\.v1\.InferContractRequest \) returns \( \.kiln\.v1\.InferContractResponse \);/);
    assert.match(inference, /rpc InferContractFromUpload \( stream \.kiln\.v1\.InferContractFromUploadRequest \) returns \( \.kiln\.v1\.InferContractResponse \);/);
    const builder = await call([kiln.builder, 'describe', 'kiln.v1.Builder']);
    assert.match(builder, /kiln\.v1\.Builder is a service/);
    assert.match(builder, /rpc BuildModelVersion \( \.kiln\.v1\.BuildModelVersionRequest \) returns \( stream \.kiln\.v1\.BuildModelVersionResponse \);/);
    assert.match(builder, /rpc TagModelVersion \( \.kiln\.v1\.TagModelVersionRequest \) returns \( \.kiln\.v1\.TagModelVersionResponse \);/);
    // Each server resolves its own messages, including ones from files its service's file imports.
    assert.match(await call([kiln.inference, 'describe', 'kiln.v1.InferContractResponse']), /\.kiln\.v1\.Contract contract = \d+;/);
    assert.match(await call([kiln.builder, 'describe', 'kiln.v1.BuildResult']), /kiln\.v1\.BuildResult is a message/);
  });

  it('GetModelVersion prints the same JSON as toProto3Json of the message', async () => {
    const viaGrpcurl: any = JSON.parse(await call(['-d', JSON.stringify({ model, version: 1 }), kiln.registry, 'kiln.v1.Registry/GetModelVersion']));
    const message = await unary<object, ModelVersion__Output>(client, 'GetModelVersion', { model, version: 1 });
    assert.deepEqual(viaGrpcurl, toProto3Json('kiln.v1.ModelVersion', message) as typeof viaGrpcurl);
    assert.equal(viaGrpcurl.model, model);
    assert.equal(viaGrpcurl.version, '1'); // int64 as a string, as proto3 JSON has it
    assert.equal(viaGrpcurl.contract.source, 'onnx');
  });

  it('ListModels and ListModelVersions print the same JSON as toProto3Json of the response', async () => {
    const request = { name_prefix: model };
    const viaGrpcurl: any = JSON.parse(await call(['-d', JSON.stringify(request), kiln.registry, 'kiln.v1.Registry/ListModels']));
    const message = await unary<object, ListModelsResponse__Output>(client, 'ListModels', { namePrefix: model });
    assert.deepEqual(viaGrpcurl, toProto3Json('kiln.v1.ListModelsResponse', message) as typeof viaGrpcurl);
    assert.equal(viaGrpcurl.models.length, 1);
    assert.equal(viaGrpcurl.models[0].latestVersion, '2');

    const versions: any = JSON.parse(await call(['-d', JSON.stringify({ model, page_size: 1 }), kiln.registry, 'kiln.v1.Registry/ListModelVersions']));
    const versionsMessage = await unary<object, object>(client, 'ListModelVersions', { model, pageSize: 1 });
    assert.deepEqual(versions, toProto3Json('kiln.v1.ListModelVersionsResponse', versionsMessage) as typeof versions);
    assert.ok(versions.nextPageToken, 'a first page of one has a next page');
  });

  it('grpc.health.v1.Health/Check answers SERVING for every service on its server, and for each server as a whole', async () => {
    const check = async (address: string, service: string) =>
      (JSON.parse as (t: string) => any)(await call(['-d', JSON.stringify({ service }), address, 'grpc.health.v1.Health/Check'])).status;
    for (const [address, service] of [[kiln.registry, 'kiln.v1.Registry'], [kiln.inference, 'kiln.v1.Inference'], [kiln.builder, 'kiln.v1.Builder']]) {
      assert.equal(await check(address, service), 'SERVING', `${service} at ${address}`);
      assert.equal(await check(address, ''), 'SERVING', `the server at ${address} as a whole`);
      await assert.rejects(check(address, 'kiln.v1.Nope'), /NotFound/);
    }
  });

  it('errors come back with their gRPC code and located message', async () => {
    await assert.rejects(
      call(['-d', JSON.stringify({ model: 'Bad Name' }), kiln.registry, 'kiln.v1.Registry/GetModelVersion']),
      /InvalidArgument[\s\S]*GetModelVersionRequest\.model/,
    );
    await assert.rejects(
      call(['-d', JSON.stringify({ model: `${model}-absent`, version: 1 }), kiln.registry, 'kiln.v1.Registry/DownloadModelVersion']),
      /NotFound/,
    );
  });
});
