// Unit tests of what `kiln upload` sends for a directory: symlinks followed (a Hugging Face snapshot), loops, broken
// links and special files refused or skipped, and a tar stream exactly as long as the expected_size it announces.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import tar from 'tar-stream';
import { uploadSource } from './upload';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'kiln-upload-src-'));

/** The tar's entries (name and content) and its total length, as the registry would read them. */
async function readTar(stream: NodeJS.ReadableStream): Promise<{ files: Map<string, string>; length: number }> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  const files = new Map<string, string>();
  const extract = tar.extract();
  extract.end(bytes);
  for await (const entry of extract) {
    const parts: Buffer[] = [];
    for await (const c of entry) parts.push(c as Buffer);
    files.set(entry.header.name, Buffer.concat(parts).toString());
  }
  return { files, length: bytes.length };
}

describe('uploadSource for a directory', () => {
  it('uploads a Hugging Face snapshot (every file a symlink into ../../blobs) as the files the links point to', async () => {
    const hf = await tmp();
    await mkdir(path.join(hf, 'blobs'));
    await writeFile(path.join(hf, 'blobs', 'aaa111'), '{"model_type": "bert"}\n');
    await writeFile(path.join(hf, 'blobs', 'bbb222'), Buffer.alloc(3000, 7));
    const snap = path.join(hf, 'snapshots', 'rev1');
    await mkdir(path.join(snap, 'onnx'), { recursive: true });
    await symlink('../../blobs/aaa111', path.join(snap, 'config.json'));
    await symlink('../../../blobs/bbb222', path.join(snap, 'onnx', 'model.onnx'));
    // A linked folder outside the snapshot is followed too.
    await mkdir(path.join(hf, 'extra'));
    await writeFile(path.join(hf, 'extra', 'notes.txt'), 'notes\n');
    await symlink('../../extra', path.join(snap, 'extra'));

    const source = await uploadSource(snap);
    const { files, length } = await readTar(source.open());
    assert.deepEqual([...files.keys()], ['config.json', 'extra/notes.txt', 'onnx/model.onnx']);
    assert.equal(files.get('config.json'), '{"model_type": "bert"}\n');
    assert.equal(files.get('onnx/model.onnx'), Buffer.alloc(3000, 7).toString());
    assert.equal(source.size, length, 'expected_size is the tar stream length');
  });

  it('refuses a folder symlink that loops back to an enclosing folder, naming it, and skips it when asked', async () => {
    const dir = await tmp();
    await mkdir(path.join(dir, 'sub'));
    await writeFile(path.join(dir, 'sub', 'w.bin'), 'w');
    await symlink('..', path.join(dir, 'sub', 'up'));
    await assert.rejects(uploadSource(dir), (err: Error & { code?: string }) =>
      err.code === 'INVALID_ARGUMENT' && err.message.includes(path.join(dir, 'sub', 'up')) && /loop/.test(err.message));
    const skipped: string[] = [];
    const source = await uploadSource(dir, { onSkip: (file, why) => skipped.push(`${file}: ${why}`) });
    assert.deepEqual([...(await readTar(source.open())).files.keys()], ['sub/w.bin']);
    assert.equal(skipped.length, 1);
    assert.match(skipped[0], /sub\/up: is a symlink to .*, a folder this upload is already in: following it would loop/);
  });

  it('refuses a symlink loop (a -> b -> a) and a broken symlink, naming each', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'ok.txt'), 'ok');
    await symlink('b', path.join(dir, 'a'));
    await symlink('a', path.join(dir, 'b'));
    await assert.rejects(uploadSource(dir), { code: 'INVALID_ARGUMENT', message: new RegExp(`${path.join(dir, 'a')}: is a symlink loop`) });
    const broken = await tmp();
    await symlink('../nowhere/model.bin', path.join(broken, 'model.bin'));
    await assert.rejects(uploadSource(broken), {
      code: 'INVALID_ARGUMENT',
      message: new RegExp(`${path.join(broken, 'model.bin')}: is a broken symlink \\(-> \\.\\./nowhere/model\\.bin\\)`),
    });
  });

  it('refuses a fifo and a socket, naming them, and skips them (and links to them) when asked', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'model.bin'), 'weights');
    await promisify(execFile)('mkfifo', [path.join(dir, 'pipe')]);
    await symlink('pipe', path.join(dir, 'pipe-link'));
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'sock'), resolve));
    try {
      await assert.rejects(uploadSource(dir), { code: 'INVALID_ARGUMENT', message: new RegExp(`${path.join(dir, 'pipe')}: is a fifo, not a regular file`) });
      const skipped: string[] = [];
      const source = await uploadSource(dir, { onSkip: (file, why) => skipped.push(`${path.basename(file)}: ${why}`) });
      assert.deepEqual(skipped, ['pipe: is a fifo, not a regular file', 'pipe-link: is a fifo (through the symlink -> pipe), not a regular file', 'sock: is a socket, not a regular file']);
      const { files, length } = await readTar(source.open());
      assert.deepEqual([...files.keys()], ['model.bin']);
      assert.equal(source.size, length);
      await assert.rejects(uploadSource(path.join(dir, 'pipe')), { code: 'INVALID_ARGUMENT', message: /pipe: is a fifo, not a file or folder/ });
    } finally {
      server.close();
    }
  });

  it('announces the exact tar length for long, deep and non-ASCII names (PAX headers) and sizes around 512', async () => {
    const dir = await tmp();
    const names = [
      'empty',
      'a'.repeat(100),
      `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(90)}`, // over 100 bytes, split into ustar prefix and name
      'g'.repeat(180), // over 100 bytes with no slash: a PAX record
      'données/modèle.bin', // non-ASCII: a PAX record
      `${'h'.repeat(120)}/${'i'.repeat(120)}`, // prefix over 155 bytes: a PAX record
    ];
    const sizes = [0, 511, 512, 513, 1024 * 1024 + 1, 1];
    for (const [i, name] of names.entries()) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), Buffer.alloc(sizes[i], i));
    }
    const source = await uploadSource(dir);
    const { files, length } = await readTar(source.open());
    assert.equal(files.size, names.length);
    for (const name of names) assert.ok(files.has(name), name);
    assert.equal(source.size, length);
  });

  it('fails the stream with FAILED_PRECONDITION naming a file that grew after the folder was read', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'model.bin'), 'abc');
    const source = await uploadSource(dir);
    await appendFile(path.join(dir, 'model.bin'), 'more');
    await assert.rejects(readTar(source.open()), { code: 'FAILED_PRECONDITION', message: /model\.bin: changed while it was uploaded: 3 bytes .*, 7 now/ });
  });

  it('sends a single file and a .tar archive as they are, announcing their file size', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'model.onnx'), 'onnx bytes');
    await writeFile(path.join(dir, 'model.tar'), Buffer.alloc(2048));
    assert.deepEqual([(await uploadSource(path.join(dir, 'model.onnx'))).size, (await uploadSource(path.join(dir, 'model.tar'))).size], [10, 2048]);
    assert.equal((await uploadSource(path.join(dir, 'model.tar'))).format, 'ARCHIVE_FORMAT_TAR');
    await assert.rejects(uploadSource(path.join(dir, 'missing')), { code: 'INVALID_ARGUMENT', message: /missing: no such file or folder/ });
  });
});
