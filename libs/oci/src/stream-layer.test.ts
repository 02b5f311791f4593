// Unit tests for stream layers: digests known only once streamed, lengths and later streams checked (no server).
import { strict as assert } from 'node:assert';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { sha256Digest } from './digest';
import { streamLayer } from './stream-layer';

const read = async (stream: Readable): Promise<Buffer> => {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
};

describe('stream layers', () => {
  const bytes = Buffer.from('a layer whose digest nobody knows yet');

  it('knows its digest only once a stream of it has ended, then is an ordinary layer', async () => {
    const layer = streamLayer(() => Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]), { size: bytes.length });
    assert.equal(layer.computed, false);
    assert.throws(() => layer.digests(), { code: 'FAILED_PRECONDITION' });
    assert.throws(() => layer.toLayer(), { code: 'FAILED_PRECONDITION' });
    const stream = layer.open();
    assert.equal(layer.computed, false, 'not before the stream ends');
    assert.deepEqual(await read(stream), bytes);
    assert.deepEqual(layer.digests(), { digest: sha256Digest(bytes), size: bytes.length, diffID: sha256Digest(bytes) });
    const known = layer.toLayer();
    assert.equal(known.digest, sha256Digest(bytes));
    assert.deepEqual(await read(known.open()), bytes, 'streams again');
  });

  it('stays uncomputed when its source fails half-way, passing the failure on', async () => {
    const layer = streamLayer(() => Readable.from((async function* () {
      yield bytes.subarray(0, 5);
      throw new Error('blob store went away');
    })()));
    await assert.rejects(read(layer.open()), /blob store went away/);
    assert.equal(layer.computed, false);
  });

  it('fails a stream longer or shorter than the size given', async () => {
    for (const size of [bytes.length - 1, bytes.length + 1]) {
      const layer = streamLayer(() => Readable.from([bytes]), { size });
      await assert.rejects(read(layer.open()), (err: Error & { code?: string }) => err.code === 'INTERNAL' && err.message.includes(`declared ${size}`));
      assert.equal(layer.computed, false);
    }
  });

  it('fails a later stream whose bytes differ from the first', async () => {
    let n = 0;
    const layer = streamLayer(() => Readable.from([n++ === 0 ? bytes : Buffer.from('something else')]));
    await read(layer.open());
    await assert.rejects(read(layer.open()), { code: 'FAILED_PRECONDITION' });
    assert.equal(layer.digests().digest, sha256Digest(bytes), 'the first digest stands');
  });

  it('takes uncompressed tar only (its digest is its diffID)', () => {
    assert.throws(() => streamLayer(() => Readable.from([]), { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }), { code: 'INVALID_ARGUMENT' });
  });
});
