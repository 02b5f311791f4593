// int64 request fields over real calls from a raw client that sends the exact wire bytes: values a JS number holds
// exactly reach the handler unchanged; anything past 2^53 - 1 is INVALID_ARGUMENT naming the field, unary and
// streamed, and the handler never sees it.
import assert from 'node:assert/strict';
import test from 'node:test';
import { pino } from 'pino';
import { grpc, kilnProto } from './index';
import type { RegistryImplementation } from './handlers';
import { startServer } from './server';
import { statusDetailsOf } from './status-details';
import { getModelVersionRequestBytes, varint } from './wire-testing';

const silent = pino({ level: 'silent' });

/** UploadModelRequest { header = 1 { model = 1; expected_size = 7 } } as bytes. */
function uploadHeader(model: string, expectedSize: bigint): Buffer {
  const name = Buffer.from(model);
  const header = Buffer.concat([Buffer.from([0x0a, name.length]), name, Buffer.from([0x38]), varint(expectedSize)]);
  return Buffer.concat([Buffer.from([0x0a, header.length]), header]);
}

async function registryServer(t: test.TestContext) {
  const seen: number[] = [];
  const implementation = {
    GetModelVersion: (request: { version: number }) => {
      seen.push(request.version);
      return { model: 'm', version: request.version };
    },
    UploadModel: async (requests: AsyncIterable<{ header?: { expectedSize: number } | null }>) => {
      for await (const r of requests) if (r.header) seen.push(r.header.expectedSize);
      return { model: 'm', version: 1 };
    },
  } as unknown as RegistryImplementation;
  const server = await startServer(
    [{ name: 'kiln.v1.Registry', definition: kilnProto().kiln.v1.Registry.service, implementation }],
    '127.0.0.1:0',
    silent,
  );
  const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
  t.after(async () => {
    client.close();
    await server.shutdown(1000);
  });
  const raw = (bytes: Buffer) => bytes;
  const get = (version: bigint) =>
    new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest('/kiln.v1.Registry/GetModelVersion', raw, raw, getModelVersionRequestBytes('m', version), (err, res) => (err ? reject(err) : resolve(res!))),
    );
  const upload = (expectedSize: bigint) =>
    new Promise<Buffer>((resolve, reject) => {
      const call = client.makeClientStreamRequest('/kiln.v1.Registry/UploadModel', raw, raw, (err, res) => (err ? reject(err) : resolve(res!)));
      call.write(uploadHeader('m', expectedSize));
      call.end();
    });
  return { seen, get, upload };
}

function assertOutOfRange(field: string) {
  return (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.details);
    assert.match(err.details, new RegExp(`^${field.replace(/\./g, '\\.')}: out of range: .*9007199254740991`));
    assert.deepEqual(statusDetailsOf(err)?.fieldViolations.map((v) => v.field), [field]);
    return true;
  };
}

test('int64 values a JS number holds exactly reach the handler unchanged, up to 2^53 - 1', async (t) => {
  const { seen, get } = await registryServer(t);
  for (const v of [1n, 9007199254740991n, -9007199254740991n]) await get(v);
  assert.deepEqual(seen, [1, 9007199254740991, -9007199254740991]);
});

test('int64 values past 2^53 - 1 are INVALID_ARGUMENT naming the field, never rounded into another number', async (t) => {
  const { seen, get } = await registryServer(t);
  for (const v of [9007199254740992n, 9007199254740993n, 9223372036854775807n, -9223372036854775808n, -9007199254740993n]) {
    await assert.rejects(get(v), assertOutOfRange('GetModelVersionRequest.version'), String(v));
  }
  assert.deepEqual(seen, []);
});

test('an int64 inside a client stream\'s message is checked as it is read, naming its path', async (t) => {
  const { seen, upload } = await registryServer(t);
  await upload(4096n);
  await assert.rejects(upload(9223372036854775807n), assertOutOfRange('UploadModelRequest.header.expected_size'));
  assert.deepEqual(seen, [4096]);
});
