// Tests of the wire scanner: field iteration, skipping without reading, and bounds on corrupt input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { isKilnError } from '@kiln/errors';
import type { RandomAccessFile } from './source';
import { bufferFile, CountingFile, schema, wholeFile, WireReader, type WireField } from './wire';
import { corruptions, fuzz } from './wire-testing';

async function collect(r: WireReader): Promise<WireField[]> {
  const out: WireField[] = [];
  for await (const f of r.fields(wholeFile(r.file))) out.push(f);
  return out;
}

/** A huge virtual file: `head` then zeros, produced on demand (nothing of that size is ever allocated by it). */
function virtualFile(head: Buffer, size: number): RandomAccessFile {
  return {
    path: 'virtual.bin',
    size,
    async read(offset, length) {
      const n = Math.max(0, Math.min(length, size - offset));
      const b = Buffer.alloc(n);
      if (offset < head.length) head.copy(b, 0, offset, Math.min(head.length, offset + n));
      return b;
    },
  };
}

test('fields reports number, wire type, offset and length of every field', async () => {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 0).int64(-1); // 10-byte varint
  w.uint32((2 << 3) | 2).string('hello');
  w.uint32((3 << 3) | 1).fixed64(7);
  w.uint32((4 << 3) | 5).fixed32(9);
  w.uint32((536870911 << 3) | 0).uint32(300); // the largest field number
  const fields = await collect(new WireReader(bufferFile('m.pb', Buffer.from(w.finish()))));
  assert.deepEqual(
    fields.map((f) => [f.number, f.wireType, f.offset, f.length]),
    [[1, 0, 1, 10], [2, 2, 13, 5], [3, 1, 19, 8], [4, 5, 28, 4], [536870911, 0, 37, 2]],
  );
  assert.equal(BigInt.asIntN(64, fields[0].varint), -1n);
  assert.equal(fields[4].varint, 300n);
});

test('a 1 GiB length-delimited field is skipped after reading a few KiB', async () => {
  const size = 1024 * 1024 * 1024;
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).uint32(size - 6 - 9); // a payload reaching up to the last field
  const head = Buffer.from(w.finish());
  const tail = Buffer.from([(2 << 3) | 2, 7, ...Buffer.from('trailer')]);
  const file = new CountingFile({
    path: 'big.bin',
    size,
    async read(offset, length) {
      const b = await virtualFile(head, size).read(offset, length);
      // The trailer sits at the very end.
      const tailAt = size - tail.length;
      for (let i = 0; i < b.length; i++) if (offset + i >= tailAt) b[i] = tail[offset + i - tailAt];
      return b;
    },
  });
  const r = new WireReader(file);
  const fields = await collect(r);
  assert.deepEqual(fields.map((f) => f.number), [1, 2]);
  assert.equal(await r.string(fields[1]), 'trailer');
  assert.ok(file.bytesRead < 16 * 1024, `read ${file.bytesRead} bytes`);
});

test('decode refuses a submessage over the metadata limit without allocating it', async () => {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).uint32(100 * 1024 * 1024);
  const file = virtualFile(Buffer.from(w.finish()), 100 * 1024 * 1024 + 5);
  const r = new WireReader(file);
  const [f] = await collect(r);
  const T = schema('syntax = "proto3"; message T { string a = 1; }').lookupType('T');
  await assert.rejects(r.decode(T, f), (e) => isKilnError(e) && /larger than the 67108864-byte limit/.test(e.message) && e.location === 'virtual.bin@5');
});

test('corrupt input is an INVALID_ARGUMENT KilnError located at path@offset', async () => {
  const cases: Array<[string, number[], RegExp, string]> = [
    ['truncated varint', [0x08, 0x80], /truncated varint/, 'x.pb@1'],
    ['length past the end', [0x12, 0x05, 0x61], /declares 5 bytes, more than the 1 left/, 'x.pb@0'],
    ['group wire type', [0x0b], /unsupported wire type 3/, 'x.pb@0'],
    ['field number 0', [0x00, 0x01], /field number 0/, 'x.pb@0'],
    ['11-byte varint', [0x08, ...Array(10).fill(0xff), 0x01], /longer than 10 bytes/, 'x.pb@1'],
  ];
  for (const [what, bytes, message, location] of cases) {
    const r = new WireReader(bufferFile('x.pb', Buffer.from(bytes)));
    await assert.rejects(collect(r), (e) => {
      assert.ok(isKilnError(e), what);
      assert.equal(e.code, 'INVALID_ARGUMENT');
      assert.match(e.message, message, what);
      assert.equal(e.location, location, what);
      return true;
    });
  }
});

test('a file that lies about its size (short reads) is reported, not trusted', async () => {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).string('abc');
  const data = Buffer.from(w.finish());
  const liar: RandomAccessFile = { path: 'short.pb', size: 100, read: async (o, l) => data.subarray(o, o + l) };
  await assert.rejects(collect(new WireReader(liar)), (e) => isKilnError(e) && /file ended early/.test(e.message));
});

test('fuzz: 400 truncated or mutated messages each end in a result or a KilnError', async () => {
  const w = protobuf.Writer.create();
  for (let i = 0; i < 20; i++) {
    w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string(`name${i}`).uint32((2 << 3) | 0).int64(i * 1000).ldelim();
    w.uint32((3 << 3) | 5).fixed32(i);
  }
  const data = Buffer.from(w.finish());
  const res = await fuzz(corruptions(data, 42, 400), async (bytes) => {
    const r = new WireReader(bufferFile('fuzz.pb', bytes));
    for await (const f of r.fields(wholeFile(r.file))) {
      if (f.number === 1 && f.wireType === 2) for await (const g of r.fields({ offset: f.offset, length: f.length })) void g;
    }
  });
  assert.equal(res.ok + res.rejected, 400);
  assert.ok(res.rejected > 0 && res.ok > 0);
});

test('with a small jump window, hopping over many large fields reads that much per field and never the gaps', async () => {
  const w = protobuf.Writer.create();
  const big = Buffer.alloc(10_000, 7);
  for (let i = 0; i < 100; i++) w.uint32((1 << 3) | 2).bytes(big).uint32((2 << 3) | 0).uint32(i);
  const file = new CountingFile(bufferFile('hops.pb', Buffer.from(w.finish())));
  const fields = await collect(new WireReader(file, { jumpWindow: 32 }));
  assert.deepEqual(fields.filter((f) => f.number === 2).map((f) => Number(f.varint)), Array.from({ length: 100 }, (_, i) => i));
  assert.ok(file.bytesRead <= 8 * 1024 + 100 * 32, `read ${file.bytesRead} of ${file.size} bytes`);
  assert.ok(file.reads <= 101, `${file.reads} reads`);
});

test('peekFields and peekBytes read nothing: they report what the window holds and stop where it ends', async () => {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).string('name');
  w.uint32((2 << 3) | 2).bytes(Buffer.alloc(50_000)); // its header is in the first window, its payload is not
  w.uint32((3 << 3) | 0).uint32(5); // beyond the first window
  const file = new CountingFile(bufferFile('peek.pb', Buffer.from(w.finish())));
  const r = new WireReader(file, { jumpWindow: 16 });
  await r.varint(0, file.size); // fills the window from 0
  const reads = file.reads;
  const { fields, next } = r.peekFields(wholeFile(file));
  assert.deepEqual(fields.map((f) => f.number), [1, 2]);
  assert.equal(next, fields[1].offset + fields[1].length);
  assert.equal(r.peekBytes(fields[0].offset, fields[0].length)?.toString(), 'name');
  assert.equal(r.peekBytes(fields[1].offset, fields[1].length), undefined);
  assert.equal(file.reads, reads);
  // fields() resumes where the peek stopped, reading.
  const rest: number[] = [];
  for await (const f of r.fields(wholeFile(file), next)) rest.push(f.number);
  assert.deepEqual(rest, [3]);
});
