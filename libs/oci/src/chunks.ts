// Regrouping a stream into fixed-size chunks: the PATCH bodies of a chunked blob upload.
import type { Readable } from 'node:stream';

/** Regroups a stream into chunks of exactly `size` bytes (the last one shorter); only one chunk is held at a time. */
export async function* chunks(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    let buf = c as Buffer;
    while (buf.length) {
      const take = Math.min(size - n, buf.length);
      parts.push(buf.subarray(0, take));
      n += take;
      buf = buf.subarray(take);
      if (n === size) {
        yield Buffer.concat(parts);
        parts = [];
        n = 0;
      }
    }
  }
  if (n) yield Buffer.concat(parts);
}
