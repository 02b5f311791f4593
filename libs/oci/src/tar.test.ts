// Unit tests of tarSize: whenever it gives a length, reproducibleTar produces exactly that many bytes.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import tar from 'tar-stream';
import { FILE_MODE, reproducibleTar, tarDirectory, tarSize, tarSymlink, type TarFile } from './tar';

const file = (name: string, size: number): TarFile => ({ name, size, mode: FILE_MODE, open: () => Readable.from([Buffer.alloc(size, 1)]) });

async function length(stream: Readable): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += (chunk as Buffer).length;
  return n;
}

describe('tarSize', () => {
  const cases: Array<[string, TarFile[]]> = [
    ['one file in a folder', [file('model/weights.bin', 1000)]],
    ['a size on a block boundary', [file('model/w', 1024)]],
    ['an empty file', [file('model/empty', 0)]],
    ['several files and nested folders', [file('model/a/b/c.txt', 1), file('model/a/d.json', 511), file('model/z', 513)]],
    ['a 100-byte name', [file(`model/${'n'.repeat(94)}`, 7)]],
  ];
  for (const [what, files] of cases) {
    it(`is the stream's length: ${what}`, async () => {
      const predicted = tarSize(files);
      assert.equal(typeof predicted, 'number');
      assert.equal(await length(reproducibleTar(files)), predicted);
    });
  }

  it('gives no length where tar-stream would add a pax header', async () => {
    const long = [file(`model/${'n'.repeat(120)}`, 7)]; // a base name over 100 bytes: no ustar prefix split either
    assert.equal(tarSize(long), undefined);
    // Folder block + file header + one data block + end marker would be 2,560 bytes: the pax header adds more.
    assert.ok((await length(reproducibleTar(long))) > 2560, 'the header is longer than one block');
    assert.equal(tarSize([file('model/é', 1)]), undefined);
    assert.equal(tarSize([{ name: 'model/huge', size: 8 * 1024 ** 3 }]), undefined);
  });
});

describe('reproducibleTar for a root filesystem', () => {
  const entries = [
    file('opt/kiln/app/main.mjs', 10),
    tarDirectory('tmp', 0o1777),
    tarDirectory('var/lib/kiln', 0o755, { uid: 65532, gid: 65532 }),
    tarSymlink('usr/local/bin/kiln', '/opt/kiln/bin/kiln'),
  ];

  it('writes directories with their own mode and owner, and symlinks, in byte order, once each', async () => {
    const headers: Array<{ name: string; type?: string | null; mode?: number; uid?: number; linkname?: string }> = [];
    const extract = tar.extract();
    extract.on('entry', (h, stream, next) => {
      headers.push({ name: h.name, type: h.type, mode: h.mode, uid: h.uid, ...(h.linkname ? { linkname: h.linkname } : {}) } as (typeof headers)[number]);
      stream.on('end', next);
      stream.resume();
    });
    const done = new Promise<void>((resolve) => extract.on('finish', () => resolve()));
    reproducibleTar(entries).pipe(extract as unknown as NodeJS.WritableStream);
    await done;
    assert.deepEqual(headers.map((h) => h.name), [
      'opt/', 'opt/kiln/', 'opt/kiln/app/', 'opt/kiln/app/main.mjs', 'tmp/', 'usr/', 'usr/local/', 'usr/local/bin/',
      'usr/local/bin/kiln', 'var/', 'var/lib/', 'var/lib/kiln/',
    ]);
    assert.deepEqual(headers.find((h) => h.name === 'tmp/'), { name: 'tmp/', type: 'directory', mode: 0o1777, uid: 0 });
    assert.equal(headers.find((h) => h.name === 'var/lib/kiln/')?.uid, 65532);
    assert.deepEqual(headers.find((h) => h.name === 'usr/local/bin/kiln'), { name: 'usr/local/bin/kiln', type: 'symlink', mode: 0o777, uid: 0, linkname: '/opt/kiln/bin/kiln' });
  });

  it('is as long as tarSize says', async () => {
    assert.equal(await length(reproducibleTar(entries)), tarSize(entries));
  });
});
