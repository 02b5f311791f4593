// Unit test of what the S3 store sends: parts and small objects go out with a CRC32 checksum and an unsigned payload
// (no second hash of the bytes), other requests stay signed as the SDK signs them. A request handler that records
// requests stands in for the network here; test/blobstore-s3.test.ts runs the same store against a real MinIO.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { HttpRequest, HttpResponse } from '@smithy/types';
import { S3BlobStore } from './s3';

const MiB = 1024 * 1024;

function recordingStore(options: { checksums?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED' } = {}) {
  const sent: Array<{ method: string; query: Record<string, unknown>; headers: Record<string, string> }> = [];
  const respond = (request: HttpRequest): HttpResponse => {
    const body = request.method === 'POST' && 'uploads' in (request.query ?? {})
      ? '<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>'
      : request.method === 'POST'
        ? '<CompleteMultipartUploadResult><ETag>"e"</ETag></CompleteMultipartUploadResult>'
        : request.method === 'GET' ? '<ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>' : '';
    return { statusCode: 200, headers: { etag: '"e"' }, body: Readable.from([Buffer.from(body)]) } as unknown as HttpResponse;
  };
  const store = new S3BlobStore({
    bucket: 'b',
    endpoint: 'http://127.0.0.1:1',
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    partSize: 5 * MiB,
    clientConfig: {
      requestChecksumCalculation: options.checksums ?? 'WHEN_SUPPORTED',
      requestHandler: {
        handle: async (request: HttpRequest) => {
          sent.push({ method: request.method, query: { ...request.query }, headers: { ...request.headers } });
          return { response: respond(request) };
        },
      },
    },
  });
  return { store, sent };
}

const bytes = (n: number) => Readable.from([Buffer.alloc(n, 7)]);

describe('S3BlobStore request signing', () => {
  it('sends parts with a CRC32 checksum and an unsigned payload; other requests stay signed', async () => {
    const { store, sent } = recordingStore();
    await store.stage(bytes(11 * MiB));
    const parts = sent.filter((r) => r.method === 'PUT' && 'partNumber' in r.query);
    assert.equal(parts.length, 3);
    for (const part of parts) {
      assert.ok(part.headers['x-amz-checksum-crc32'], 'each part carries its CRC32');
      assert.equal(part.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD');
      assert.match(part.headers.authorization, /SignedHeaders=[^,]*x-amz-content-sha256/, 'the choice itself is signed');
    }
    const create = sent.find((r) => r.method === 'POST' && 'uploads' in r.query)!;
    assert.match(create.headers['x-amz-content-sha256'], /^[0-9a-f]{64}$/, 'requests without a checksum keep a signed payload');
  });

  it('keeps the payload signed when checksums are turned off', async () => {
    const { store, sent } = recordingStore({ checksums: 'WHEN_REQUIRED' });
    await store.stage(bytes(1024));
    const put = sent.find((r) => r.method === 'PUT')!;
    assert.equal(put.headers['x-amz-checksum-crc32'], undefined);
    assert.match(put.headers['x-amz-content-sha256'], /^[0-9a-f]{64}$/);
  });
});
