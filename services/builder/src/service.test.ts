// TagModelVersion and UntagModelVersion over gRPC on a builder whose sink is an OCI layout (no servers beyond it):
// what each request field must be, with the code and field named, and the tag moved in and removed from index.json.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builderClient, grpc, type BuilderClient } from '@kiln/api';
import { promiseClient } from '@kiln/api/client';
import { loadConfig } from '@kiln/config';
import { createLogger } from '@kiln/log';
import { buildModelImage, ociLayoutSink, type Image } from '@kiln/oci';
import { sampleModel, writeModelFiles } from '@kiln/oci/testing/model-files';
import { startBuilder } from './index';

type Code = keyof typeof grpc.status;

async function statusOf(p: Promise<unknown>): Promise<{ code: Code; details: string }> {
  try {
    await p;
    return { code: 'OK', details: '' };
  } catch (err) {
    return { code: grpc.status[(err as { code: number }).code] as Code, details: (err as { details?: string }).details ?? String(err) };
  }
}

describe('TagModelVersion and UntagModelVersion, OCI layout sink', () => {
  let data: string;
  let layout: string;
  let builder: { address: string; stop(): Promise<void> };
  let client: BuilderClient;
  const images: Image[] = [];
  const ref = (tag: string | number, model = 'default/iris') => `oci:${layout}:kiln/${model}:${tag}`;

  before(async () => {
    data = await mkdtemp(path.join(os.tmpdir(), 'kiln-builder-tag-'));
    layout = path.join(data, 'images');
    const files = await writeModelFiles(path.join(data, 'files'), sampleModel());
    for (const [model, version] of [['iris', 1], ['iris', 2], ['other', 1]] as const) {
      const { image } = await buildModelImage(files, { name: model, version, largeFileThreshold: 1 << 20 });
      await ociLayoutSink(layout).write(image, `kiln/default/${model}:${version}`);
      images.push(image);
    }
    builder = await startBuilder(loadConfig({ KILN_DATA_DIR: data, KILN_BUILDER_LISTEN: '127.0.0.1:0' }), createLogger('test', 'silent'));
    client = builderClient(builder.address);
  });
  after(async () => {
    client?.close();
    await builder?.stop();
    await rm(data, { recursive: true, force: true });
  });

  const tagRequest = (over: Record<string, unknown> = {}) =>
    ({ model: 'iris', version: 1, tag: 'production', imageReference: ref(1), imageDigest: images[0].digest, ...over });

  it('points the tag at version 1, then moves it to version 2, in index.json', async () => {
    const tagged = await promiseClient(client).TagModelVersion(tagRequest());
    assert.deepEqual(tagged, { imageReference: ref('production'), imageDigest: images[0].digest });
    assert.equal(await ociLayoutSink(layout).digestOf('kiln/default/iris:production'), images[0].digest);
    assert.deepEqual(await promiseClient(client).TagModelVersion(tagRequest()), tagged, 'again: the same answer');
    const moved = await promiseClient(client).TagModelVersion(tagRequest({ model: 'default/iris', version: 2, imageReference: ref(2), imageDigest: images[1].digest }));
    assert.deepEqual(moved, { imageReference: ref('production'), imageDigest: images[1].digest });
    assert.equal(await ociLayoutSink(layout).digestOf('kiln/default/iris:production'), images[1].digest);
    assert.equal(await ociLayoutSink(layout).digestOf('kiln/default/iris:1'), images[0].digest, 'the versions\' own refs stay');
  });

  it('refuses bad fields with INVALID_ARGUMENT naming them', async () => {
    for (const [over, field] of [
      [{ model: '' }, 'model'], [{ model: 'Bad Name' }, 'model'], [{ model: 'kiln/layers' }, 'model'], [{ version: 0 }, 'version'],
      [{ tag: '' }, 'tag'], [{ tag: '7' }, 'tag'], [{ tag: 'a/b' }, 'tag'], [{ tag: '.hidden' }, 'tag'], [{ tag: 'x'.repeat(129) }, 'tag'],
      [{ imageDigest: '' }, 'image_digest'], [{ imageDigest: 'sha256:1234' }, 'image_digest'], [{ imageDigest: `md5:${'a'.repeat(32)}` }, 'image_digest'],
      [{ imageReference: '' }, 'image_reference'],
    ] as const) {
      const s = await statusOf(promiseClient(client).TagModelVersion(tagRequest(over)));
      assert.equal(s.code, 'INVALID_ARGUMENT', `${JSON.stringify(over)}: ${s.details}`);
      assert.match(s.details, new RegExp(`TagModelVersionRequest\\.${field}`), JSON.stringify(over));
    }
  });

  it('tags no other repository, and no digest that is not the version\'s own image (FAILED_PRECONDITION)', async () => {
    for (const over of [
      { imageReference: ref(1, 'default/other') }, // another model's image
      { imageReference: `oci:/elsewhere:kiln/default/iris:1` }, // another layout
      { imageReference: ref(2) }, // another version's reference
      { imageReference: `127.0.0.1:5000/kiln/default/iris:1` }, // a registry, not this builder's sink
    ]) {
      const s = await statusOf(promiseClient(client).TagModelVersion(tagRequest(over)));
      assert.equal(s.code, 'FAILED_PRECONDITION', `${JSON.stringify(over)}: ${s.details}`);
      assert.match(s.details, /TagModelVersionRequest\.image_reference/);
    }
    // The layout's blob folder holds every model's manifests: another model's digest is refused, by name.
    const other = await statusOf(promiseClient(client).TagModelVersion(tagRequest({ imageDigest: images[2].digest })));
    assert.equal(other.code, 'FAILED_PRECONDITION', other.details);
    assert.match(other.details, /kiln\/default\/iris:1 names sha256:[0-9a-f]{64} in the OCI layout, not/);
    const none = await statusOf(promiseClient(client).TagModelVersion(tagRequest({ model: 'ghost', imageReference: ref(1, 'default/ghost') })));
    assert.equal(none.code, 'FAILED_PRECONDITION', none.details);
    assert.match(none.details, /names no image/);
  });

  it('untag removes the tag from index.json (only while it names image_digest when given), idempotently', async () => {
    await promiseClient(client).TagModelVersion(tagRequest({ tag: 'staging' }));
    const kept = await promiseClient(client).UntagModelVersion({ model: 'iris', tag: 'staging', imageDigest: images[1].digest });
    assert.equal(kept.removed, true);
    assert.equal(await ociLayoutSink(layout).digestOf('kiln/default/iris:staging'), images[0].digest, 'it names another image: left');
    const removed = await promiseClient(client).UntagModelVersion({ model: 'iris', tag: 'staging', imageDigest: images[0].digest });
    assert.deepEqual(removed, { imageReference: ref('staging'), removed: true, detail: '' });
    assert.equal(await ociLayoutSink(layout).digestOf('kiln/default/iris:staging'), null);
    assert.equal((await promiseClient(client).UntagModelVersion({ model: 'iris', tag: 'staging', imageDigest: '' })).removed, true);
    assert.equal(await ociLayoutSink(layout).digestOf('kiln/default/iris:1'), images[0].digest, 'the version\'s image stays');
    const bad = await statusOf(promiseClient(client).UntagModelVersion({ model: 'iris', tag: '3', imageDigest: '' }));
    assert.equal(bad.code, 'INVALID_ARGUMENT');
    assert.match(bad.details, /UntagModelVersionRequest\.tag/);
  });
});
