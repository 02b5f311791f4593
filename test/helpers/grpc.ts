// Small promise wrappers over the generated gRPC clients for tests, and assertions on gRPC errors.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { grpc, type RegistryClient } from '@kiln/api';
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import type { UploadHeader } from '@kiln/api/generated/kiln/v1/UploadHeader';
import type { WatchModelVersionResponse__Output } from '@kiln/api/generated/kiln/v1/WatchModelVersionResponse';

export function unary<Req, Res>(client: RegistryClient, method: keyof RegistryClient, req: Req): Promise<Res> {
  return new Promise((resolve, reject) =>
    (client[method] as unknown as (r: Req, cb: (e: unknown, r?: Res) => void) => void).call(client, req, (err, res) =>
      err ? reject(err) : resolve(res as Res),
    ),
  );
}

/** Sends a header then the stream's bytes as chunks, honouring back-pressure. */
export function uploadStream(client: RegistryClient, header: UploadHeader, body: Readable | Buffer): Promise<ModelVersion__Output> {
  return new Promise((resolve, reject) => {
    const call = client.UploadModel((err, v) => (err ? reject(err) : resolve(v!)));
    call.write({ header });
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
    (async () => {
      for await (const chunk of source) {
        if (!call.write({ chunk })) await new Promise((r) => call.once('drain', r));
      }
      call.end();
    })().catch((err) => {
      call.cancel();
      reject(err);
    });
  });
}

export async function watchAll(client: RegistryClient, model: string, version: number): Promise<WatchModelVersionResponse__Output[]> {
  const events: WatchModelVersionResponse__Output[] = [];
  for await (const e of client.WatchModelVersion({ model, version })) events.push(e as WatchModelVersionResponse__Output);
  return events;
}

export async function assertGrpcError(promise: Promise<unknown>, code: keyof typeof grpc.status, details: RegExp): Promise<void> {
  await assert.rejects(promise, (err: { code?: number; details?: string }) => {
    assert.equal(grpc.status[err.code ?? -1], code, `expected ${code}, got ${grpc.status[err.code ?? -1]}: ${err.details}`);
    assert.match(err.details ?? '', details);
    return true;
  });
}
