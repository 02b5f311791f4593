// Unit test for regrouping a stream into fixed-size chunks (the PATCH bodies of a registry push).
import { strict as assert } from 'node:assert';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { chunks } from './chunks';

describe('chunks', () => {
  it('cuts any input chunking into chunks of exactly the size, the last one shorter, bytes unchanged', async () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const input = [data.subarray(0, 1), data.subarray(1, 300), data.subarray(300, 301), data.subarray(301)];
    const out: Buffer[] = [];
    for await (const c of chunks(Readable.from(input), 128)) out.push(c);
    assert.deepEqual(out.map((c) => c.length), [128, 128, 128, 128, 128, 128, 128, 104]);
    assert.deepEqual(Buffer.concat(out), data);
  });
  it('yields nothing for an empty stream', async () => {
    const out: Buffer[] = [];
    for await (const c of chunks(Readable.from([]), 8)) out.push(c);
    assert.deepEqual(out, []);
  });
});
