// Test support: archives in memory from entries (a tar, a gzip bomb), for tests that feed archives to readers and
// services.
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export type TarEntry = Partial<tar.Header> & { name: string; content?: Buffer };

export async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  // Read while writing: the pack stream holds back entries until its output is consumed.
  const reading = (async () => {
    for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => pack.entry(header as tar.Header, content ?? '', (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await reading;
  return Buffer.concat(chunks);
}

/** A gzip bomb: its chunks, its compressed size, and how many of its bytes were taken from chunks() so far. */
export interface GzipBomb {
  size: number;
  sent: number;
  chunks(): Generator<Buffer>;
}

/**
 * A gzip bomb that is a valid .tar.gz: the tar of `entries`, then `members` gzip members of 16 MiB of zeros each.
 * Zero blocks after a tar's end are padding that readers skip, so no header declares them, and concatenated gzip
 * members are one gzip stream: each member adds 16 MiB decompressed for ~16 KiB sent.
 */
export async function zeroPaddedTarGz(entries: TarEntry[], members: number): Promise<GzipBomb> {
  return zerosBetween(gzipSync(await tarOf(entries)), members);
}

/**
 * A gzip bomb that is a valid .tar.gz of one file of zeros, `members` × 16 MiB long (512: the 8 GiB of the issue),
 * declared in its header like any file: ~16 KiB sent per 16 MiB, generated as it is read, never held.
 */
export async function zeroFileTarGz(name: string, members: number): Promise<GzipBomb> {
  const pack = tar.pack();
  pack.entry({ name, size: members * ZEROS_PER_MEMBER }); // never written: only its header is taken
  let header = Buffer.alloc(0);
  for await (const chunk of pack as unknown as AsyncIterable<Buffer>) {
    header = Buffer.concat([header, chunk]);
    if (header.length >= 512) break;
  }
  // The file's zeros, then the two zero blocks that end a tar.
  return zerosBetween(gzipSync(header.subarray(0, 512)), members, gzipSync(Buffer.alloc(1024)));
}

const ZEROS_PER_MEMBER = 16 * 1024 * 1024;

/** `head`, then `members` gzip members of 16 MiB of zeros, then `tail`. */
function zerosBetween(head: Buffer, members: number, tail = Buffer.alloc(0)): GzipBomb {
  const member = gzipSync(Buffer.alloc(ZEROS_PER_MEMBER), { level: 9 });
  const bomb: GzipBomb = {
    size: head.length + members * member.length + tail.length,
    sent: 0,
    *chunks() {
      bomb.sent += head.length;
      yield head;
      for (let i = 0; i < members; i++) {
        bomb.sent += member.length;
        yield member;
      }
      bomb.sent += tail.length;
      if (tail.length) yield tail;
    },
  };
  return bomb;
}
