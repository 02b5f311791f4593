// Unit tests of the archive reader: every accepted layout, every rejected entry named, limits enforced early.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isKilnError, KilnError } from '@kiln/errors';
import { RATIO_FLOOR_BYTES, readArchive, type ArchiveLimits } from './index';
import { tarOf, zeroFileTarGz, zeroPaddedTarGz, type GzipBomb, type TarEntry } from './testing';

const MiB = 1024 * 1024;
const LIMITS: ArchiveLimits = { maxFileBytes: MiB, maxTotalBytes: 4 * MiB, maxFiles: 10 };

type Entry = TarEntry;

type ReadOptions = { format?: 'tar' | 'tar.gz' | 'file' | 'auto'; fileName?: string; limits?: ArchiveLimits; expectedBytes?: number };

async function read(bytes: Buffer | Readable, opts: ReadOptions = {}) {
  const contents = new Map<string, string>();
  const summary = await readArchive(Buffer.isBuffer(bytes) ? Readable.from([bytes]) : bytes, {
    format: opts.format ?? 'auto',
    fileName: opts.fileName,
    limits: opts.limits ?? LIMITS,
    expectedBytes: opts.expectedBytes,
    async onFile(file, content) {
      const hash = createHash('sha256');
      for await (const c of content) hash.update(c as Buffer);
      contents.set(file.path, hash.digest('hex'));
    },
  });
  return { summary, contents };
}

async function rejects(bytes: Buffer | Readable, code: string, messagePart: RegExp, opts: ReadOptions = {}) {
  await assert.rejects(read(bytes, opts), (err: unknown) => {
    assert.ok(isKilnError(err), `expected a KilnError, got ${err}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, messagePart);
    return true;
  });
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

describe('readArchive', () => {
  it('an input failing while onFile is still setting up reaches onFile\'s stream: a rejection, not a hang', async () => {
    // The whole tar arrives in one chunk and the stream then ends short of expected_size, so the input fails
    // before onFile (which awaits something first, as writing to disk does) starts reading its file.
    const bytes = await tarOf([{ name: 'model.bin', content: Buffer.alloc(20_000, 7) }]);
    const reading = readArchive(Readable.from([bytes]), {
      format: 'auto',
      limits: LIMITS,
      expectedBytes: bytes.length + 512,
      async onFile(_file, content) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        for await (const _ of content) { /* drain */ }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('readArchive hung')), 5000)));
    await assert.rejects(Promise.race([reading, hung]), /upload ended after \d+ bytes; the header announced/);
    clearTimeout(timer);
  });

  it('reads a tar: files with paths normalised, directories skipped, modes kept as executable flags', async () => {
    const bytes = await tarOf([
      { name: './model/', type: 'directory' },
      { name: './model/weights.bin', content: Buffer.from('weights') },
      { name: 'run.sh', content: Buffer.from('#!/bin/sh'), mode: 0o755 },
    ]);
    const { summary, contents } = await read(bytes);
    assert.equal(summary.format, 'tar');
    assert.deepEqual(summary.files, [
      { path: 'model/weights.bin', size: 7, executable: false },
      { path: 'run.sh', size: 9, executable: true },
    ]);
    assert.equal(contents.get('model/weights.bin'), sha('weights'));
  });

  it('detects a gzip-compressed tar', async () => {
    const bytes = gzipSync(await tarOf([{ name: 'a.txt', content: Buffer.from('a') }]));
    const { summary } = await read(bytes);
    assert.equal(summary.format, 'tar.gz');
    assert.deepEqual(summary.files.map((f) => f.path), ['a.txt']);
  });

  it('reads a single file under its file name', async () => {
    const { summary, contents } = await read(Buffer.from('onnx bytes'), { fileName: 'model.onnx' });
    assert.deepEqual(summary.files, [{ path: 'model.onnx', size: 10, executable: false }]);
    assert.equal(contents.get('model.onnx'), sha('onnx bytes'));
  });

  it('a gzip file uploaded as a single file stays one file', async () => {
    const bytes = gzipSync(Buffer.from('x'));
    const { summary } = await read(bytes, { fileName: 'data.gz' });
    assert.equal(summary.format, 'file');
  });

  it('resolves hard links and symlinks inside the root to their target files', async () => {
    const bytes = await tarOf([
      { name: 'v1/w.bin', content: Buffer.from('w') },
      { name: 'latest', type: 'symlink', linkname: 'v1/w.bin' },
      { name: 'copy.bin', type: 'link', linkname: 'v1/w.bin' },
    ]);
    const { summary } = await read(bytes);
    assert.deepEqual(summary.links.map((l) => [l.path, l.target]), [['latest', 'v1/w.bin'], ['copy.bin', 'v1/w.bin']]);
  });

  it('refuses bytes that are neither tar nor gzip without a file name', async () => {
    await rejects(Buffer.from('just some bytes'), 'INVALID_ARGUMENT', /header\.format/);
  });

  for (const [what, entries, pattern] of [
    ['an absolute path', [{ name: '/etc/passwd', content: Buffer.from('x') }], /"\/etc\/passwd".*absolute/],
    ["a '..' path", [{ name: 'a/../../x', content: Buffer.from('x') }], /"a\/..\/..\/x".*'\.\.'/],
    ['a symlink escaping the root', [{ name: 'evil', type: 'symlink', linkname: '../../etc/passwd' }], /"evil".*escapes the root/],
    ['an absolute symlink', [{ name: 'evil', type: 'symlink', linkname: '/etc/passwd' }], /"evil".*absolute/],
    ['a hard link escaping the root', [{ name: 'evil', type: 'link', linkname: '../x' }], /"evil".*escapes the root/],
    ['a link to nothing in the archive', [{ name: 'dangling', type: 'symlink', linkname: 'missing' }], /"dangling".*no file in the archive/],
    ['a character device', [{ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 }], /"dev\/null".*not allowed/],
    ['a fifo', [{ name: 'pipe', type: 'fifo' }], /"pipe".*not allowed/],
    ['duplicate paths', [{ name: 'a', content: Buffer.from('1') }, { name: './a', content: Buffer.from('2') }], /"\.\/a".*duplicate path a/],
    ['a file over the size limit', [{ name: 'big.bin', content: Buffer.alloc(LIMITS.maxFileBytes + 1) }], /"big\.bin".*over the limit of 1048576 bytes per file/],
    ['more files than allowed', Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, content: Buffer.from('x') })), /"f10".*more than 10 files/],
    ['a file that is also a folder (file first)', [{ name: 'a', content: Buffer.from('1') }, { name: 'a/b', content: Buffer.from('2') }], /"a\/b".*needs a to be a folder.*"a" is a file/],
    ['a file that is also a folder (file last)', [{ name: 'a/b', content: Buffer.from('2') }, { name: 'a', content: Buffer.from('1') }], /entry "a":.*"a\/b" lies inside it/],
    ['a file where a directory entry is', [{ name: 'a/', type: 'directory' }, { name: 'a', content: Buffer.from('1') }], /entry "a":.*"a\/" makes it a folder/],
    ['a directory entry where a file is', [{ name: 'a', content: Buffer.from('1') }, { name: 'a/', type: 'directory' }], /entry "a\/":.*"a" makes it a file/],
    ['a path through a symlink', [
      { name: 'w', content: Buffer.from('w') },
      { name: 's', type: 'symlink', linkname: 'w' },
      { name: 's/x', content: Buffer.from('x') },
    ], /"s\/x".*goes through s.*"s" makes a link/],
    ['a path through a hard link', [
      { name: 'w', content: Buffer.from('w') },
      { name: 'h', type: 'link', linkname: 'w' },
      { name: 'h/x', type: 'symlink', linkname: '../w' },
    ], /"h\/x".*goes through h.*"h" makes a link/],
    ['a link at a path a file has', [{ name: 'w', content: Buffer.from('w') }, { name: 'w', type: 'symlink', linkname: 'w' }], /duplicate path w/],
    ['more hard links than the file limit', [
      { name: 'w', content: Buffer.from('w') },
      ...Array.from({ length: 50 }, (_, i) => ({ name: `h${i}`, type: 'link' as const, linkname: 'w' })),
    ], /"h9".*more than 10 files/],
    ['links that make the upload bigger than the upload limit', [
      { name: 'big.bin', content: Buffer.alloc(LIMITS.maxFileBytes) },
      ...Array.from({ length: 4 }, (_, i) => ({ name: `copy${i}`, type: 'link' as const, linkname: 'big.bin' })),
    ], /"copy3".*copy of big\.bin.*over the limit of 4194304 bytes for the whole upload/],
    ['a symlink ahead of its target that makes the upload too big', [
      { name: 'early', type: 'symlink', linkname: 'big.bin' },
      { name: 'big.bin', content: Buffer.alloc(LIMITS.maxFileBytes) },
      { name: 'more.bin', content: Buffer.alloc(LIMITS.maxFileBytes) },
      { name: 'most.bin', content: Buffer.alloc(LIMITS.maxFileBytes) },
      { name: 'last.bin', content: Buffer.alloc(10) },
    ], /"early".*over the limit of 4194304 bytes for the whole upload/],
  ] as Array<[string, Entry[], RegExp]>) {
    it(`rejects ${what}, naming the entry`, async () => {
      await rejects(await tarOf(entries), 'INVALID_ARGUMENT', pattern);
    });
  }

  it('stops a gzip bomb at the size cap without inflating it all', async () => {
    // 64 MiB of zeros in files just under the per-file limit compresses to ~64 KiB; the total cap is 4 MiB.
    const entries = Array.from({ length: 9 }, (_, i) => ({ name: `z${i}`, content: Buffer.alloc(LIMITS.maxFileBytes - 1024) }));
    const bomb = gzipSync(await tarOf(entries));
    assert.ok(bomb.length < 64 * 1024);
    await rejects(bomb, 'INVALID_ARGUMENT', /"z4".*over the limit of 4194304 bytes for the whole upload/);
  });

  it('stops a gzip bomb that no header declares (a tar padded with zero blocks) at the decompressed cap, reading a fraction of it', async () => {
    // Zero blocks after a tar's end are padding that tar readers skip, so only the cap on decompressed bytes (the
    // upload limit plus 64 MiB for headers: 68 MiB here) stops them.
    const entries = [{ name: 'model.bin', content: Buffer.from('weights') }];
    const stream = (bomb: GzipBomb) => Readable.from(bomb.chunks(), { objectMode: false, highWaterMark: 1 });
    // The same stream under the cap (64 MiB of padding) is a valid archive: only the cap stops the big one.
    const { summary } = await read(stream(await zeroPaddedTarGz(entries, 4)));
    assert.deepEqual(summary.files.map((f) => f.path), ['model.bin']);

    const big = await zeroPaddedTarGz(entries, 64); // 1 GiB decompressed
    assert.ok(big.size < 2 * MiB, `the bomb is ${big.size} bytes`);
    const started = performance.now();
    await rejects(stream(big), 'INVALID_ARGUMENT', /^archive: the archive decompresses to more than 71303168 bytes/);
    const seconds = (performance.now() - started) / 1000;
    assert.ok(big.sent < big.size / 4, `read ${big.sent} of ${big.size} compressed bytes`);
    assert.ok(seconds < 10, `took ${seconds} s`);
  });

  describe('the decompression ratio limit', () => {
    const GiB = 1024 * MiB;
    // Size limits far above the bomb, as the defaults are (1 TiB): only the ratio may stop it.
    const limits: ArchiveLimits = { maxFileBytes: 16 * GiB, maxTotalBytes: 16 * GiB, maxFiles: 10, maxCompressionRatio: 100 };
    const stream = (bomb: GzipBomb) => Readable.from(bomb.chunks(), { objectMode: false, highWaterMark: 1 });

    it('refuses a .tar.gz of 8 GiB of zeros (8 MiB sent) within a second, naming the limit, having read a fraction', async () => {
      const bomb = await zeroFileTarGz('zeros.bin', 512);
      assert.ok(bomb.size < 9 * MiB, `the bomb is ${bomb.size} bytes`);
      const started = performance.now();
      await rejects(stream(bomb), 'INVALID_ARGUMENT', /^archive entry "zeros\.bin": the archive decompresses to more than 100 times its compressed size .*KILN_MAX_DECOMPRESSION_RATIO/, { limits });
      const seconds = (performance.now() - started) / 1000;
      assert.ok(seconds < 1.5, `took ${seconds} s`);
      assert.ok(bomb.sent < 256 * 1024, `read ${bomb.sent} of ${bomb.size} compressed bytes`);
    });

    it('accepts a very compressible archive under the floor (sparse weights and text) whatever its ratio', async () => {
      const weights = new Float32Array((RATIO_FLOOR_BYTES - 8 * MiB) / 4);
      for (let i = 0; i < weights.length; i += 65_536) weights[i] = i / 7;
      const vocab = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `"token${i % 500}": ${i % 7}`).join(',\n'));
      const bytes = gzipSync(await tarOf([
        { name: 'model/weights.bin', content: Buffer.from(weights.buffer) },
        { name: 'model/vocab.json', content: vocab },
      ]));
      const ratio = (weights.byteLength + vocab.length) / bytes.length;
      assert.ok(ratio > 100, `ratio ${ratio}`);
      const { summary } = await read(bytes, { limits });
      assert.deepEqual(summary.files.map((f) => f.path), ['model/weights.bin', 'model/vocab.json']);
    });

    it('accepts an archive past the floor at an ordinary ratio, and any ratio when the limit is 0', async () => {
      const bytes = gzipSync(await tarOf([{ name: 'weights.bin', content: randomBytes(RATIO_FLOOR_BYTES + 4 * MiB) }]), { level: 1 });
      const { summary } = await read(bytes, { limits });
      assert.deepEqual(summary.files.map((f) => f.path), ['weights.bin']);
      const zeros = gzipSync(await tarOf([{ name: 'zeros.bin', content: Buffer.alloc(RATIO_FLOOR_BYTES + 4 * MiB) }]));
      await read(zeros, { limits: { ...limits, maxCompressionRatio: 0 } });
      await rejects(zeros, 'INVALID_ARGUMENT', /decompression ratio limit/, { limits });
    });
  });

  it('errors of onFile that are not about the archive keep their own code (an outage is not a bad archive)', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED' });
    const bytes = await tarOf([{ name: 'model.bin', content: Buffer.alloc(10_000, 1) }]);
    for (const [format, input] of [['tar', bytes], ['tar.gz', gzipSync(bytes)], ['file', bytes]] as const) {
      const reading = readArchive(Readable.from([input]), {
        format,
        fileName: format === 'file' ? 'model.bin' : undefined,
        limits: LIMITS,
        async onFile(_file, content) {
          content.resume();
          throw refused;
        },
      });
      await assert.rejects(reading, (err) => err === refused, format);
    }
  });

  it('a store failing mid-file is reported, not the end of reading it caused (an AbortError)', async () => {
    const outage = new KilnError('UNAVAILABLE', 'the blob store is unavailable');
    const input = Readable.from((function* () {
      for (let i = 0; i < 100; i++) yield Buffer.alloc(64 * 1024, i);
    })());
    const reading = readArchive(input, {
      format: 'file',
      fileName: 'model.bin',
      limits: LIMITS,
      async onFile(_file, content) {
        try {
          // Leaving the loop destroys the content stream, which fails the input's pipeline at once.
          for await (const _ of content) throw outage;
        } catch (err) {
          await new Promise((r) => setTimeout(r, 50)); // the store cleaning up (aborting its multipart upload)
          throw err;
        }
      },
    });
    await assert.rejects(reading, (err) => err === outage);
  });

  it('a single file over the limit is refused as it streams, naming the file and the limit', async () => {
    await rejects(Buffer.alloc(LIMITS.maxFileBytes + 10), 'INVALID_ARGUMENT', /^model\.bin: .*over the limit of 1048576 bytes per file/, { fileName: 'model.bin' });
  });

  it('a single file over the upload limit (lower than the per-file one) names that limit', async () => {
    const limits = { ...LIMITS, maxFileBytes: 8 * MiB };
    await rejects(Buffer.alloc(LIMITS.maxTotalBytes + 1), 'INVALID_ARGUMENT', /^model\.bin: .*over the limit of 4194304 bytes for the whole upload/, { fileName: 'model.bin', limits });
  });

  it('a failed single file is reported only once its consumer has cleaned up', async () => {
    let cleanedUp = false;
    await assert.rejects(
      readArchive(Readable.from([Buffer.alloc(LIMITS.maxFileBytes + 10)]), {
        format: 'file',
        fileName: 'model.bin',
        limits: LIMITS,
        async onFile(_file, content) {
          try {
            for await (const _ of content);
          } catch (err) {
            await new Promise((r) => setTimeout(r, 200)); // as a store aborting its multipart upload
            cleanedUp = true;
            throw err;
          }
        },
      }),
      /over the limit of 1048576 bytes per file/,
    );
    assert.ok(cleanedUp);
  });

  for (const [format, make] of [
    ['a single file', async () => Buffer.alloc(5000, 1)],
    ['a tar', () => tarOf([{ name: 'a.bin', content: Buffer.alloc(5000, 1) }])],
    ['a tar.gz', async () => gzipSync(await tarOf([{ name: 'a.bin', content: Buffer.alloc(5000, 1) }]))],
  ] as Array<[string, () => Promise<Buffer>]>) {
    it(`${format} shorter or longer than the header's expected size is INVALID_ARGUMENT; the exact size is read`, async () => {
      const bytes = await make();
      const opts = { fileName: format === 'a single file' ? 'a.bin' : undefined };
      const { summary } = await read(bytes, { ...opts, expectedBytes: bytes.length });
      assert.deepEqual(summary.files.map((f) => f.path), ['a.bin']);
      await rejects(bytes, 'INVALID_ARGUMENT', new RegExp(`^header\\.expected_size: upload ended after ${bytes.length} bytes; the header announced ${bytes.length + 512}$`), {
        ...opts,
        expectedBytes: bytes.length + 512,
      });
      await rejects(bytes, 'INVALID_ARGUMENT', /^header\.expected_size: the upload is longer than the 100 bytes the header announced/, { ...opts, expectedBytes: 100 });
    });
  }

  it('accepts a folder given both as a directory entry and as a parent, and links into folders', async () => {
    const { summary } = await read(await tarOf([
      { name: 'v1/w.bin', content: Buffer.from('w') },
      { name: 'v1/', type: 'directory' },
      { name: 'v1/', type: 'directory' },
      { name: 'v1/alias', type: 'symlink', linkname: 'w.bin' },
    ]));
    assert.deepEqual(summary.links.map((l) => [l.path, l.target]), [['v1/alias', 'v1/w.bin']]);
  });

  it('a truncated tar is INVALID_ARGUMENT', async () => {
    const bytes = await tarOf([{ name: 'a.bin', content: Buffer.alloc(10_000, 1) }]);
    await rejects(bytes.subarray(0, 3000), 'INVALID_ARGUMENT', /archive/);
  });

  it('a corrupt gzip stream is INVALID_ARGUMENT', async () => {
    const bytes = gzipSync(await tarOf([{ name: 'a.bin', content: Buffer.alloc(10_000, 7) }]));
    bytes[20] ^= 0xff;
    bytes[30] ^= 0xff;
    await rejects(bytes, 'INVALID_ARGUMENT', /gzip|archive/);
  });
});
