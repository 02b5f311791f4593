// Test calls through @kiln/api's promise clients, and assertions on gRPC errors.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { grpc, type RegistryClient } from '@kiln/api';
import { promiseClient } from '@kiln/api/client';
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import type { UploadHeader } from '@kiln/api/generated/kiln/v1/UploadHeader';
import type { UploadModelRequest } from '@kiln/api/generated/kiln/v1/UploadModelRequest';
import type { WatchModelVersionResponse__Output } from '@kiln/api/generated/kiln/v1/WatchModelVersionResponse';

/** A unary registry call by name. */
export function unary<Req, Res>(client: RegistryClient, method: keyof RegistryClient, req: Req): Promise<Res> {
  const call = promiseClient(client)[method as 'GetModelVersion'] as unknown as (r: Req) => Promise<Res>;
  return call(req);
}

/** Sends a header then the stream's bytes as chunks, honouring back-pressure. */
export function uploadStream(client: RegistryClient, header: UploadHeader, body: Readable | Buffer): Promise<ModelVersion__Output> {
  const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
  return promiseClient(client).UploadModel((async function* (): AsyncGenerator<UploadModelRequest> {
    yield { header };
    for await (const chunk of source) yield { chunk };
  })());
}

export async function watchAll(client: RegistryClient, model: string, version: number): Promise<WatchModelVersionResponse__Output[]> {
  const events: WatchModelVersionResponse__Output[] = [];
  for await (const e of promiseClient(client).WatchModelVersion({ model, version })) events.push(e);
  return events;
}

export async function assertGrpcError(promise: Promise<unknown>, code: keyof typeof grpc.status, details: RegExp): Promise<void> {
  await assert.rejects(promise, (err: { code?: number; details?: string }) => {
    assert.equal(grpc.status[err.code ?? -1], code, `expected ${code}, got ${grpc.status[err.code ?? -1]}: ${err.details}`);
    assert.match(err.details ?? '', details);
    return true;
  });
}
