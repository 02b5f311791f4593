// End-to-end tests of upload validation against the real Postgres and MinIO: uploads that fail after the S3
// multipart upload of a file is open (truncated tar, file over the size limit, stream shorter than its header said)
// and archives whose paths or links break the rules leave no version, no object and no open multipart upload.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RegistryClient } from '@kiln/api';
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import type { UploadHeader } from '@kiln/api/generated/kiln/v1/UploadHeader';
import { tarOf, zeroPaddedTarGz } from '@kiln/archive/testing';
import type { BlobStore } from '@kiln/blobstore';
import { openBlobStore } from '@kiln/blobstore/open';
import { assertGrpcError, unary, uploadStream } from './helpers/grpc';
import { startKiln, type RunningKiln } from './helpers/services';

const MiB = 1024 * 1024;
// Small limits, so that failures come after the 8 MiB first part of a file has opened a multipart upload.
const MAX_FILE_BYTES = 24 * MiB;
const MAX_UPLOAD_BYTES = 64 * MiB;
const MAX_FILES = 5;

describe('upload validation on real Postgres and MinIO', () => {
  let kiln: RunningKiln;
  let client: RegistryClient;
  let blobs: BlobStore;

  before(async () => {
    kiln = await startKiln({
      env: { KILN_MAX_FILE_BYTES: String(MAX_FILE_BYTES), KILN_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES), KILN_MAX_FILES: String(MAX_FILES) },
    });
    // Only the upload path is under test: the accepted versions' builds wait in the queue.
    await kiln.stopBuilder(0);
    client = kiln.client;
    blobs = await openBlobStore(kiln.config.blobs);
  });
  after(() => kiln?.stop());

  async function blobDigests(): Promise<Set<string>> {
    const set = new Set<string>();
    for await (const b of blobs.list()) set.add(b.digest);
    return set;
  }

  /** The failed upload left nothing: no version of the model, no new blob, no temp object or open multipart upload. */
  async function assertNothingLeft(model: string, before: Set<string>): Promise<void> {
    await assertGrpcError(unary(client, 'GetModelVersion', { model, version: 0 }), 'NOT_FOUND', new RegExp(model));
    assert.deepEqual([...(await blobDigests())].sort(), [...before].sort(), 'no new blob is left');
    assert.equal(await blobs.listIncomplete(), 0, 'no temp object or open multipart upload is left');
  }

  /**
   * Sends `first`, waits until the registry has an S3 multipart upload open for it, then sends `rest` and
   * half-closes: whatever fails next fails with a multipart upload to clean up. Stops sending once the call ends.
   */
  async function uploadAfterMultipartOpens(header: UploadHeader, first: Buffer, rest: Buffer): Promise<ModelVersion__Output> {
    assert.equal(await blobs.listIncomplete(), 0, 'nothing incomplete before the upload');
    let ended = false;
    let settle: (err: unknown, v?: ModelVersion__Output) => void = () => {};
    const result = new Promise<ModelVersion__Output>((resolve, reject) => {
      settle = (err, v) => (err ? reject(err) : resolve(v!));
    });
    const call = client.UploadModel((err, v) => {
      ended = true;
      settle(err, v);
    });
    const callEnded = result.then(() => {}, () => {});
    const send = async (bytes: Buffer) => {
      for (let at = 0; at < bytes.length && !ended; at += MiB) {
        if (!call.write({ chunk: bytes.subarray(at, at + MiB) })) await Promise.race([once(call, 'drain'), callEnded]);
      }
    };
    call.write({ header });
    await send(first);
    const deadline = Date.now() + 30_000;
    while ((await blobs.listIncomplete()) === 0 && !ended) {
      if (Date.now() > deadline) assert.fail('no multipart upload opened within 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(!ended, 'the upload was still open when its multipart upload was');
    await send(rest);
    if (!ended) call.end();
    return result;
  }

  it('a tar truncated partway through a 20 MiB file: INVALID_ARGUMENT, and nothing is left', async () => {
    const before = await blobDigests();
    const tar = await tarOf([{ name: 'weights.bin', content: randomBytes(20 * MiB) }]);
    const header = { model: 'truncated-tar', format: 'ARCHIVE_FORMAT_TAR' as const };
    await assertGrpcError(
      uploadAfterMultipartOpens(header, tar.subarray(0, 512 + 12 * MiB), tar.subarray(512 + 12 * MiB, 512 + 16 * MiB)),
      'INVALID_ARGUMENT',
      /archive.*Unexpected end of data/,
    );
    await assertNothingLeft('truncated-tar', before);
  });

  it('a single file over the per-file limit fails as it streams past the first part: INVALID_ARGUMENT naming it and the limit', async () => {
    const before = await blobDigests();
    const bytes = randomBytes(MAX_FILE_BYTES + 6 * MiB);
    await assertGrpcError(
      uploadAfterMultipartOpens({ model: 'single-too-big', fileName: 'model.bin' }, bytes.subarray(0, 12 * MiB), bytes.subarray(12 * MiB)),
      'INVALID_ARGUMENT',
      new RegExp(`^model\\.bin: the file is over the limit of ${MAX_FILE_BYTES} bytes per file$`),
    );
    await assertNothingLeft('single-too-big', before);
  });

  it('a single file that ends before the size its header announced: INVALID_ARGUMENT, and no truncated version', async () => {
    const before = await blobDigests();
    const bytes = randomBytes(12 * MiB);
    await assertGrpcError(
      uploadAfterMultipartOpens({ model: 'short-upload', fileName: 'model.bin', expectedSize: 20 * MiB }, bytes, Buffer.alloc(0)),
      'INVALID_ARGUMENT',
      new RegExp(`^header\\.expected_size: upload ended after ${12 * MiB} bytes; the header announced ${20 * MiB}$`),
    );
    await assertNothingLeft('short-upload', before);
  });

  it('a single file of exactly its announced size is stored', async () => {
    const bytes = randomBytes(3 * MiB);
    const v = await uploadStream(client, { model: 'exact-size', fileName: 'model.bin', expectedSize: bytes.length }, bytes);
    assert.deepEqual(v.files.map((f) => [f.path, Number(f.size)]), [['model.bin', bytes.length]]);
  });

  const badArchives: Array<[string, () => Promise<Buffer>, RegExp]> = [
    ['a file that is also a folder', () => tarOf([
      { name: 'a', content: randomBytes(10 * MiB) },
      { name: 'a/b', content: randomBytes(1000) },
    ]), /"a\/b".*needs a to be a folder.*archive entry "a" is a file/],
    ['a folder that is also a file', () => tarOf([
      { name: 'a/b', content: randomBytes(10 * MiB) },
      { name: 'a', content: randomBytes(1000) },
    ]), /archive entry "a":.*archive entry "a\/b" lies inside it/],
    ['a file inside a symlink', () => tarOf([
      { name: 'w', content: randomBytes(10 * MiB) },
      { name: 's', type: 'symlink', linkname: 'w' },
      { name: 's/x', content: randomBytes(1000) },
    ]), /"s\/x".*goes through s.*archive entry "s" makes a link/],
    ['more hard links than the file limit', () => tarOf([
      { name: 'w', content: randomBytes(MiB) },
      ...Array.from({ length: 50 }, (_, i) => ({ name: `h${i}`, type: 'link' as const, linkname: 'w' })),
    ]), new RegExp(`"h${MAX_FILES - 1}".*more than ${MAX_FILES} files`)],
    ['hard links to a big file past the upload limit', () => tarOf([
      { name: 'big.bin', content: randomBytes(20 * MiB) },
      ...Array.from({ length: 3 }, (_, i) => ({ name: `copy${i}`, type: 'link' as const, linkname: 'big.bin' })),
    ]), new RegExp(`"copy2".*copy of big\\.bin.*over the limit of ${MAX_UPLOAD_BYTES} bytes for the whole upload`)],
    ['a kiln.yaml over the manifest size limit', () => tarOf([
      { name: 'model.bin', content: randomBytes(MiB) },
      { name: 'kiln.yaml', content: Buffer.from(`kind: Model\nname: m\n#${'x'.repeat(300 * 1024)}\n`) },
    ]), /^kiln\.yaml: the manifest is larger than 262144 bytes/],
  ];
  for (const [what, make, details] of badArchives) {
    it(`rejects ${what} with INVALID_ARGUMENT naming the entries, and keeps nothing`, async () => {
      const before = await blobDigests();
      const model = `bad-${what.replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '').slice(0, 40)}`;
      await assertGrpcError(uploadStream(client, { model, format: 'ARCHIVE_FORMAT_TAR' }, await make()), 'INVALID_ARGUMENT', details);
      await assertNothingLeft(model, before);
    });
  }

  it('stops a gzip bomb no header declares (1 GiB of zero padding in a ~1 MiB .tar.gz) by its decompression ratio', async () => {
    // Past 64 MiB decompressed, the default ratio limit (100) stops it before the cap on decompressed bytes
    // (KILN_MAX_UPLOAD_BYTES + 64 MiB), which libs/archive's unit tests check on their own.
    const before = await blobDigests();
    const bomb = await zeroPaddedTarGz([{ name: 'model.bin', content: randomBytes(1000) }], 64);
    await assertGrpcError(
      uploadStream(client, { model: 'gzip-bomb', format: 'ARCHIVE_FORMAT_TAR_GZ' }, Buffer.concat([...bomb.chunks()])),
      'INVALID_ARGUMENT',
      /^archive: the archive decompresses to more than 100 times its compressed size .*KILN_MAX_DECOMPRESSION_RATIO/,
    );
    await assertNothingLeft('gzip-bomb', before);
  });

  it('rejects a single-file upload of a kiln.yaml over the manifest size limit, naming it', async () => {
    const before = await blobDigests();
    const manifest = Buffer.from(`kind: Model\nname: m\n#${'x'.repeat(300 * 1024)}\n`);
    await assertGrpcError(
      uploadStream(client, { model: 'big-manifest-file', fileName: 'kiln.yaml', expectedSize: manifest.length }, manifest),
      'INVALID_ARGUMENT',
      /^kiln\.yaml: the manifest is larger than 262144 bytes/,
    );
    await assertNothingLeft('big-manifest-file', before);
  });

  it('accepts links up to the limits: a file and four hard links are a version of five files', async () => {
    const w = randomBytes(MiB);
    const tar = await tarOf([{ name: 'w', content: w }, ...Array.from({ length: 4 }, (_, i) => ({ name: `h${i}`, type: 'link' as const, linkname: 'w' }))]);
    const v = await uploadStream(client, { model: 'links-at-limit', format: 'ARCHIVE_FORMAT_TAR' }, tar);
    assert.deepEqual(v.files.map((f) => f.path).sort(), ['h0', 'h1', 'h2', 'h3', 'w']);
    assert.equal(new Set(v.files.map((f) => f.sha256)).size, 1);
  });
});
