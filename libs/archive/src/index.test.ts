// Unit tests of the archive reader: every accepted layout, every rejected entry named, limits enforced early.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isKilnError } from '@kiln/errors';
import { readArchive, type ArchiveLimits } from './index';
import { tarOf, type TarEntry } from './testing';

const LIMITS: ArchiveLimits = { maxFileBytes: 1024 * 1024, maxTotalBytes: 4 * 1024 * 1024, maxFiles: 10 };

type Entry = TarEntry;

async function read(bytes: Buffer, opts: { format?: 'tar' | 'tar.gz' | 'file' | 'auto'; fileName?: string; limits?: ArchiveLimits } = {}) {
  const contents = new Map<string, string>();
  const summary = await readArchive(Readable.from([bytes]), {
    format: opts.format ?? 'auto',
    fileName: opts.fileName,
    limits: opts.limits ?? LIMITS,
    async onFile(file, content) {
      const hash = createHash('sha256');
      for await (const c of content) hash.update(c as Buffer);
      contents.set(file.path, hash.digest('hex'));
    },
  });
  return { summary, contents };
}

async function rejects(bytes: Buffer, code: string, messagePart: RegExp, opts: Parameters<typeof read>[1] = {}) {
  await assert.rejects(read(bytes, opts), (err: unknown) => {
    assert.ok(isKilnError(err), `expected a KilnError, got ${err}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, messagePart);
    return true;
  });
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

describe('readArchive', () => {
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
    ['a file over the size limit', [{ name: 'big.bin', content: Buffer.alloc(LIMITS.maxFileBytes + 1) }], /"big\.bin".*over the limit/],
    ['more files than allowed', Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, content: Buffer.from('x') })), /"f10".*more than 10 files/],
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
    await rejects(bomb, 'RESOURCE_EXHAUSTED', /more than 4194304 bytes/);
  });

  it('a single file over the limit is refused as it streams', async () => {
    await rejects(Buffer.alloc(LIMITS.maxFileBytes + 10), 'RESOURCE_EXHAUSTED', /model\.bin/, { fileName: 'model.bin' });
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
