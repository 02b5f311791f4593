// Unit tests for the OCI layout sink and source: layout files, ref annotations, blob reuse, round trip, tags moved
// and removed in index.json.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import lockfile from 'proper-lockfile';
import { digestStream, sha256Digest } from '../digest';
import { buildModelImage } from '../image';
import { readOciLayout } from '../sources/oci-layout';
import { sampleModel, writeModelFiles } from '../testing/model-files';
import { ociLayoutSink, removeTemporaryFiles } from './oci-layout';

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-oci-layout-'));
});
after(async () => fs.rm(tmp, { recursive: true, force: true }));

describe('OCI layout sink', () => {
  it('keeps every ref when many images are written at once (the index update is locked)', async () => {
    const files = await writeModelFiles(path.join(tmp, 'files-concurrent'), sampleModel());
    const dir = path.join(tmp, 'layout-concurrent');
    const images = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      buildModelImage(files, { name: 'iris', version: i + 1, largeFileThreshold: 1 << 20 })));
    await Promise.all(images.map(({ image }, i) => ociLayoutSink(dir).write(image, `iris-${i + 1}`)));
    const index = JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8'));
    const refs = index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name']);
    assert.deepEqual(refs.sort(), images.map((_, i) => `iris-${i + 1}`).sort());
    assert.deepEqual((await fs.readdir(dir)).filter((f) => f !== 'blobs').sort(), ['index.json', 'oci-layout'], 'no lock or temp file left');
  });

  it('writes oci-layout, index.json with the ref name, and every blob under its digest', async () => {
    const files = await writeModelFiles(path.join(tmp, 'files'), sampleModel());
    const { image } = await buildModelImage(files, { name: 'iris', version: 1, largeFileThreshold: 1 << 20 });
    const dir = path.join(tmp, 'layout');
    const result = await ociLayoutSink(dir).write(image, 'iris-1');
    assert.equal(result.digest, image.digest);
    assert.deepEqual(JSON.parse(await fs.readFile(path.join(dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8'));
    assert.equal(index.schemaVersion, 2);
    assert.deepEqual(index.manifests, [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: image.digest,
        size: image.rawManifest.length,
        annotations: { 'org.opencontainers.image.ref.name': 'iris-1' },
      },
    ]);
    for (const d of [image.digest, image.manifest.config.digest, ...image.layers.map((l) => l.digest)]) {
      const bytes = await fs.readFile(path.join(dir, 'blobs/sha256', d.slice(7)));
      assert.equal(sha256Digest(bytes), d);
    }
    assert.equal(result.uploaded.length, image.layers.length + 1);

    // same image again: nothing written; a second ref adds an entry, the same ref replaces its entry
    const again = await ociLayoutSink(dir).write(image, 'iris-1');
    assert.equal(again.uploaded.length, 0);
    await ociLayoutSink(dir).write(image, 'latest');
    const index2 = JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8'));
    assert.deepEqual(index2.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name']), ['iris-1', 'latest']);
    const leftovers = (await fs.readdir(path.join(dir, 'blobs/sha256'))).filter((f) => f.endsWith('.tmp'));
    assert.deepEqual(leftovers, []);

    // and read back
    const back = await readOciLayout(dir, 'iris-1');
    assert.equal(back.digest, image.digest);
    assert.deepEqual(back.config, image.config);
    for (const [i, l] of back.layers.entries()) {
      assert.deepEqual(await digestStream(l.open()), { digest: image.layers[i].digest, size: image.layers[i].size });
    }
  });

  it('removes the temp files of writes that were killed, at start and before a write, and keeps a live write\'s', async () => {
    const dir = path.join(tmp, 'layout-killed');
    const blobs = path.join(dir, 'blobs', 'sha256');
    await fs.mkdir(blobs, { recursive: true });
    const temp = (name: string) => path.join(blobs, `${'ab'.repeat(32)}.${name}.tmp`);
    // Killed mid-write: one from before writers locked their temp files, one whose lock went stale (not refreshed).
    await fs.writeFile(temp('unlocked'), Buffer.alloc(1 << 20));
    await fs.writeFile(temp('stale'), Buffer.alloc(1 << 20));
    await fs.mkdir(`${temp('stale')}.lock`);
    const longAgo = new Date(Date.now() - 60_000);
    await fs.utimes(`${temp('stale')}.lock`, longAgo, longAgo);
    await fs.mkdir(`${temp('lock-only')}.lock`); // killed before creating its file
    await fs.utimes(`${temp('lock-only')}.lock`, longAgo, longAgo);
    // A write in progress (another process's, say) holds its lock.
    const release = await lockfile.lock(temp('live'), { realpath: false, stale: 10_000 });
    await fs.writeFile(temp('live'), 'still writing');
    try {
      assert.equal(await removeTemporaryFiles(dir), 3);
      assert.deepEqual((await fs.readdir(blobs)).sort(), [path.basename(temp('live')), `${path.basename(temp('live'))}.lock`]);

      await fs.writeFile(temp('unlocked'), 'killed since'); // and the next write removes it first
      const files = await writeModelFiles(path.join(tmp, 'files-killed'), sampleModel());
      const { image } = await buildModelImage(files, { name: 'iris', version: 1, largeFileThreshold: 1 << 20 });
      await ociLayoutSink(dir).write(image, 'iris-1');
      assert.deepEqual((await fs.readdir(blobs)).filter((n) => n.includes('.tmp')).sort(), [path.basename(temp('live')), `${path.basename(temp('live'))}.lock`]);
    } finally {
      await release();
    }
  });

  it('a write that fails leaves no temp file behind', async () => {
    const files = await writeModelFiles(path.join(tmp, 'files-failing'), sampleModel());
    const { image } = await buildModelImage(files, { name: 'iris', version: 1, largeFileThreshold: 1 << 20 });
    const dir = path.join(tmp, 'layout-failing');
    // The manifest cannot be renamed into place: a non-empty folder holds its name.
    await fs.mkdir(path.join(dir, 'blobs', 'sha256', image.digest.slice(7), 'in-the-way'), { recursive: true });
    await assert.rejects(ociLayoutSink(dir).write(image, 'iris-1'));
    const left = [...await fs.readdir(dir), ...await fs.readdir(path.join(dir, 'blobs', 'sha256'))].filter((n) => n.includes('.tmp'));
    assert.deepEqual(left, []);
  });

  describe('tags', () => {
    const refsOf = async (dir: string) => {
      const index = JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; mediaType: string; size: number; annotations: Record<string, string> }> };
      return index.manifests.map((m) => ({ ref: m.annotations['org.opencontainers.image.ref.name'], digest: m.digest, mediaType: m.mediaType, size: m.size }));
    };
    async function twoVersions(name: string) {
      const files = await writeModelFiles(path.join(tmp, `files-${name}`), sampleModel());
      const dir = path.join(tmp, `layout-${name}`);
      const v1 = (await buildModelImage(files, { name: 'iris', version: 1, largeFileThreshold: 1 << 20 })).image;
      const v2 = (await buildModelImage(files, { name: 'iris', version: 2, largeFileThreshold: 1 << 20 })).image;
      await ociLayoutSink(dir).write(v1, 'kiln/default/iris:1');
      await ociLayoutSink(dir).write(v2, 'kiln/default/iris:2');
      return { dir, v1, v2 };
    }

    it('tag points a new ref name at a stored manifest, then moves it (one entry per ref), writing no blob', async () => {
      const { dir, v1, v2 } = await twoVersions('tag');
      const blobsBefore = (await fs.readdir(path.join(dir, 'blobs/sha256'))).sort();
      const sink = ociLayoutSink(dir);
      assert.deepEqual(await sink.tag('kiln/default/iris:production', v1.digest), { digest: v1.digest, changed: true });
      assert.equal(await sink.digestOf('kiln/default/iris:production'), v1.digest);
      assert.deepEqual((await refsOf(dir)).at(-1), { ref: 'kiln/default/iris:production', digest: v1.digest, mediaType: v1.mediaType, size: v1.rawManifest.length });
      // Again with the same digest: nothing changes (index.json is not even rewritten).
      const before = await fs.stat(path.join(dir, 'index.json'));
      assert.deepEqual(await sink.tag('kiln/default/iris:production', v1.digest), { digest: v1.digest, changed: false });
      assert.equal((await fs.stat(path.join(dir, 'index.json'))).mtimeMs, before.mtimeMs);
      // Moved to version 2: the entry is replaced, the versions' own refs stay.
      assert.deepEqual(await sink.tag('kiln/default/iris:production', v2.digest), { digest: v2.digest, changed: true });
      assert.deepEqual((await refsOf(dir)).map((r) => [r.ref, r.digest]), [
        ['kiln/default/iris:1', v1.digest], ['kiln/default/iris:2', v2.digest], ['kiln/default/iris:production', v2.digest]]);
      assert.deepEqual((await fs.readdir(path.join(dir, 'blobs/sha256'))).sort(), blobsBefore, 'no blob written');
      // What skopeo and umoci read: the tag's image is version 2's.
      assert.equal((await readOciLayout(dir, 'kiln/default/iris:production')).digest, v2.digest);
      assert.deepEqual((await fs.readdir(dir)).filter((f) => f !== 'blobs').sort(), ['index.json', 'oci-layout'], 'no lock or temp file left');
    });

    it('tag refuses a manifest the layout does not hold (FAILED_PRECONDITION) and a bad digest (INVALID_ARGUMENT)', async () => {
      const { dir } = await twoVersions('tag-missing');
      await assert.rejects(ociLayoutSink(dir).tag('kiln/default/iris:production', `sha256:${'0'.repeat(64)}`),
        (err: Error & { code?: string }) => err.code === 'FAILED_PRECONDITION' && /is not in the OCI layout/.test(err.message));
      await assert.rejects(ociLayoutSink(dir).tag('kiln/default/iris:production', 'sha256:nope'), (err: Error & { code?: string }) => err.code === 'INVALID_ARGUMENT');
      assert.equal(await ociLayoutSink(dir).digestOf('kiln/default/iris:production'), null);
    });

    it('untag removes only that ref name (blobs and other refs stay), only while it names ifDigest when given; idempotent', async () => {
      const { dir, v1, v2 } = await twoVersions('untag');
      const sink = ociLayoutSink(dir);
      await sink.tag('kiln/default/iris:production', v2.digest);
      await sink.tag('kiln/default/iris:staging', v1.digest);
      // Asked to remove it only while it names version 1's image: it names 2's, and stays.
      assert.deepEqual(await sink.untag('kiln/default/iris:production', { ifDigest: v1.digest }), { removed: true });
      assert.equal(await sink.digestOf('kiln/default/iris:production'), v2.digest);
      assert.deepEqual(await sink.untag('kiln/default/iris:production', { ifDigest: v2.digest }), { removed: true });
      assert.equal(await sink.digestOf('kiln/default/iris:production'), null);
      assert.deepEqual(await sink.untag('kiln/default/iris:production'), { removed: true }, 'not there: removed already');
      assert.deepEqual((await refsOf(dir)).map((r) => r.ref), ['kiln/default/iris:1', 'kiln/default/iris:2', 'kiln/default/iris:staging']);
      assert.equal((await readOciLayout(dir, 'kiln/default/iris:2')).digest, v2.digest, 'the version\'s image is whole');
      assert.deepEqual(await ociLayoutSink(path.join(tmp, 'no-layout')).untag('x:production'), { removed: true });
    });

    it('tags moved while images are written at once lose no ref (one index lock)', async () => {
      const { dir, v1, v2 } = await twoVersions('tag-concurrent');
      const files = await writeModelFiles(path.join(tmp, 'files-tag-concurrent-more'), sampleModel());
      const more = await Promise.all([3, 4, 5, 6].map(async (version) => (await buildModelImage(files, { name: 'iris', version, largeFileThreshold: 1 << 20 })).image));
      await Promise.all([
        ...more.map((image, i) => ociLayoutSink(dir).write(image, `kiln/default/iris:${i + 3}`)),
        ...['a', 'b', 'c', 'd', 'e', 'f'].map((t, i) => ociLayoutSink(dir).tag(`kiln/default/iris:${t}`, i % 2 ? v1.digest : v2.digest)),
      ]);
      const refs = (await refsOf(dir)).map((r) => r.ref).sort();
      assert.deepEqual(refs, ['1', '2', '3', '4', '5', '6', 'a', 'b', 'c', 'd', 'e', 'f'].map((t) => `kiln/default/iris:${t}`).sort());
    });
  });
});
