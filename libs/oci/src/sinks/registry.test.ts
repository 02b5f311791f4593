// Unit tests for the registry sink's push order against a scripted registry (a fake fetch): no blob is written twice
// to one repository at once, a manifest refused for an unknown blob is sent again only once every blob is confirmed,
// reads answered 500 are asked again, a stream layer goes in chunks committed with the digest hashed on the way, and
// a tag moves by a PUT of the stored manifest's own bytes.
import { strict as assert } from 'node:assert';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { sha256Digest } from '../digest';
import { imageFromConfig } from '../image';
import { uploadStreamLayer } from '../registry/stream-upload';
import { RegistryTransport } from '../registry/transport';
import { streamLayer } from '../stream-layer';
import { MediaType, type Layer } from '../types';
import { registrySink } from './registry';

const layerOf = (text: string): Layer => {
  const bytes = Buffer.from(text);
  const digest = sha256Digest(bytes);
  return { mediaType: MediaType.OCI_LAYER, digest, diffID: digest, size: bytes.length, open: () => Readable.from([bytes]) };
};
const image = (() => {
  const layers = [layerOf('weights'), layerOf('small files')];
  return imageFromConfig({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }, layers);
})();

/** A registry in memory: blobs per repository, with hooks to delay answers and refuse manifests. */
function scriptedRegistry(script: { manifestRefusals?: number; readFailures?: number } = {}) {
  const blobs = new Set<string>();
  const log: string[] = [];
  let refusals = script.manifestRefusals ?? 0;
  let readFailures = script.readFailures ?? 0;
  let uploads = 0;
  const patches: Array<{ range: string | null; bytes: Buffer }> = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    log.push(`${method} ${url.pathname}${url.search}`);
    await new Promise((r) => setTimeout(r, 5)); // every answer takes a moment: concurrent sinks overlap
    const blob = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (url.pathname === '/v2/') return new Response(null, { status: 200 });
    // What Distribution answers to a read of a link being rewritten.
    if (method === 'HEAD' && readFailures > 0) {
      readFailures--;
      return new Response(null, { status: 500 });
    }
    if (method === 'HEAD' && blob) return new Response(null, { status: blobs.has(`${blob[1]}@${blob[2]}`) ? 200 : 404 });
    const start = /^\/v2\/(.+)\/blobs\/uploads\/$/.exec(url.pathname);
    if (method === 'POST' && start) return new Response(null, { status: 202, headers: { location: `/v2/${start[1]}/blobs/uploads/${++uploads}` } });
    const commit = /^\/v2\/(.+)\/blobs\/uploads\/\d+$/.exec(url.pathname);
    if (method === 'PATCH' && commit) {
      const range = new Headers(init?.headers).get('content-range');
      patches.push({ range, bytes: Buffer.from(init?.body as Buffer) });
      return new Response(null, { status: 202, headers: { location: url.pathname } });
    }
    if (method === 'PUT' && commit) {
      blobs.add(`${commit[1]}@${url.searchParams.get('digest')}`);
      return new Response(null, { status: 201 });
    }
    const manifest = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url.pathname);
    if (method === 'PUT' && manifest) {
      if (refusals > 0) {
        refusals--;
        const errors = [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }, { code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry' }];
        return new Response(JSON.stringify({ errors }), { status: 400 });
      }
      return new Response(null, { status: 201, headers: { 'docker-content-digest': image.digest } });
    }
    return new Response(null, { status: 404 });
  };
  return { fetchImpl, log, blobs, patches };
}

describe('registry sink', () => {
  it('writes a blob to a repository once when sinks sharing a transport push the same image at once', async () => {
    const registry = scriptedRegistry();
    const transport = new RegistryTransport({ registry: '127.0.0.1:5000', insecure: true, fetch: registry.fetchImpl });
    const results = await Promise.all([1, 2, 3].map((i) => registrySink({ registry: transport.registry, repository: 'models/a', transport }).write(image, String(i))));
    const commits = registry.log.filter((l) => l.startsWith('PUT /v2/models/a/blobs/uploads/'));
    assert.equal(commits.length, 3, 'two layers and the config, each sent once');
    assert.deepEqual(results.flatMap((r) => r.uploaded).sort(), [...image.layers.map((l) => l.digest), image.configBlob.digest].sort());
    for (const r of results) assert.equal(r.uploaded.length + r.existing.length + r.mounted.length, 3, 'every blob accounted for once');
  });

  it('sends a manifest refused for an unknown blob again once every blob is confirmed present', async () => {
    const registry = scriptedRegistry({ manifestRefusals: 1 });
    const sink = registrySink({ registry: '127.0.0.1:5000', insecure: true, repository: 'models/b', fetch: registry.fetchImpl });
    const result = await sink.write(image, '1');
    assert.equal(result.digest, image.digest);
    const manifests = registry.log.map((l, i) => [l, i] as const).filter(([l]) => l === 'PUT /v2/models/b/manifests/1');
    assert.equal(manifests.length, 2, 'sent twice');
    const heads = registry.log.slice(manifests[0][1], manifests[1][1]).filter((l) => l.startsWith('HEAD /v2/models/b/blobs/'));
    assert.equal(heads.length, 3, 'every blob confirmed between the two');
    assert.equal(result.uploaded.length, 3, 'and nothing counted twice');
    assert.equal(result.existing.length, 0);
  });

  it('asks a blob or manifest HEAD again when the registry answers 500', async () => {
    const registry = scriptedRegistry({ readFailures: 2 });
    const sink = registrySink({ registry: '127.0.0.1:5000', insecure: true, repository: 'models/e', fetch: registry.fetchImpl });
    assert.equal(await sink.digestOf('1'), null, 'no manifest yet, after two 500s');
    assert.equal((await sink.write(image, '1')).uploaded.length, 3);
    const failing = scriptedRegistry({ readFailures: 10 });
    const stuck = registrySink({ registry: '127.0.0.1:5000', insecure: true, repository: 'models/e', fetch: failing.fetchImpl });
    await assert.rejects(stuck.digestOf('1'), { code: 'UNAVAILABLE' });
  });

  it('gives up after a few refusals with the registry\'s errors', async () => {
    const registry = scriptedRegistry({ manifestRefusals: 10 });
    const sink = registrySink({ registry: '127.0.0.1:5000', insecure: true, repository: 'models/c', fetch: registry.fetchImpl });
    await assert.rejects(sink.write(image, '1'), /returned 400 DIGEST_INVALID: provided digest did not match uploaded content; MANIFEST_BLOB_UNKNOWN/);
  });

  it('uploads a stream layer in chunks through the transport, committing the digest hashed on the way', async () => {
    const registry = scriptedRegistry();
    const transport = new RegistryTransport({ registry: '127.0.0.1:5000', insecure: true, fetch: registry.fetchImpl });
    const bytes = Buffer.from('0123456789abcdefghij');
    const layer = streamLayer(() => Readable.from([bytes.subarray(0, 3), bytes.subarray(3)]), { size: bytes.length });
    const digests = await uploadStreamLayer(transport, 'models/d', layer, { chunkSize: 8, streamAuthorization: null });
    assert.deepEqual(digests, { digest: sha256Digest(bytes), size: bytes.length, diffID: sha256Digest(bytes) });
    assert.deepEqual(registry.patches.map((p) => p.range), ['0-7', '8-15', '16-19']);
    assert.deepEqual(Buffer.concat(registry.patches.map((p) => p.bytes)), bytes);
    assert.ok(registry.blobs.has(`models/d@${sha256Digest(bytes)}`), 'committed under the digest');
    assert.equal(layer.toLayer().digest, sha256Digest(bytes), 'the layer is computed');
  });

  describe('tag', () => {
    /** A registry holding manifests by digest and tags, serving them with a Content-Type as Distribution does. */
    function manifestRegistry(stored: Array<{ raw: Buffer; type: string }>, options: { unreachable?: boolean } = {}) {
      const byDigest = new Map(stored.map((m) => [sha256Digest(m.raw), m]));
      const tags = new Map<string, string>();
      const log: string[] = [];
      const fetchImpl: typeof fetch = async (input, init) => {
        if (options.unreachable) throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
        const url = new URL(String(input));
        const method = init?.method ?? 'GET';
        if (url.pathname === '/v2/') return new Response(null, { status: 200 });
        const headers = new Headers(init?.headers);
        log.push(`${method} ${url.pathname} ${headers.get('content-type') ?? headers.get('accept') ?? ''}`);
        const m = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url.pathname);
        if (!m) return new Response(null, { status: 404 });
        const digest = m[2].startsWith('sha256:') ? m[2] : tags.get(m[2]);
        const found = digest ? byDigest.get(digest) : undefined;
        if (method === 'PUT') {
          const raw = Buffer.from(init?.body as Buffer);
          byDigest.set(sha256Digest(raw), { raw, type: headers.get('content-type')! });
          tags.set(m[2], sha256Digest(raw));
          return new Response(null, { status: 201, headers: { 'docker-content-digest': sha256Digest(raw) } });
        }
        if (!found) return new Response(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }), { status: 404 });
        const h = { 'content-type': found.type, 'docker-content-digest': digest! };
        return new Response(method === 'HEAD' ? null : found.raw, { status: 200, headers: h });
      };
      return { fetchImpl, log, tags };
    }
    // Bytes no JSON library writes the same way twice (spacing, key order): only the stored bytes keep the digest.
    const v1 = { raw: Buffer.from(`{ "schemaVersion": 2,\n  "mediaType": "${MediaType.DOCKER_MANIFEST}", "config": {}, "layers": [] }`), type: MediaType.DOCKER_MANIFEST };
    const v2 = { raw: image.rawManifest, type: MediaType.OCI_MANIFEST };

    it('PUTs the manifest\'s exact bytes and media type under the tag, touching no blob; again is a HEAD only', async () => {
      const registry = manifestRegistry([v1, v2]);
      const sink = registrySink({ registry: '127.0.0.1:5000', insecure: true, repository: 'models/t', fetch: registry.fetchImpl });
      assert.deepEqual(await sink.tag('production', sha256Digest(v1.raw)), { digest: sha256Digest(v1.raw), changed: true });
      assert.equal(registry.tags.get('production'), sha256Digest(v1.raw));
      assert.deepEqual(registry.log.map((l) => l.split(' ').slice(0, 2).join(' ')), [
        'HEAD /v2/models/t/manifests/production', `GET /v2/models/t/manifests/${sha256Digest(v1.raw)}`, 'PUT /v2/models/t/manifests/production']);
      assert.match(registry.log[1], /application\/vnd\.oci\.image\.manifest\.v1\+json.*application\/vnd\.docker\.distribution\.manifest\.v2\+json.*application\/vnd\.oci\.image\.index\.v1\+json/, 'asks for every manifest type');
      assert.equal(registry.log[2], `PUT /v2/models/t/manifests/production ${MediaType.DOCKER_MANIFEST}`, 'the type it was stored with');
      registry.log.length = 0;
      assert.deepEqual(await sink.tag('production', sha256Digest(v1.raw)), { digest: sha256Digest(v1.raw), changed: false });
      assert.deepEqual(registry.log.map((l) => l.split(' ').slice(0, 2).join(' ')), ['HEAD /v2/models/t/manifests/production']);
      // Moved to another version's image.
      assert.deepEqual(await sink.tag('production', image.digest), { digest: image.digest, changed: true });
      assert.equal(registry.tags.get('production'), image.digest);
      assert.ok(!registry.log.some((l) => l.includes('/blobs/')), 'no blob request');
    });

    it('a manifest missing is FAILED_PRECONDITION, a bad tag or digest INVALID_ARGUMENT, a registry away UNAVAILABLE', async () => {
      const registry = manifestRegistry([v1]);
      const sink = registrySink({ registry: '127.0.0.1:5000', insecure: true, repository: 'models/t', fetch: registry.fetchImpl });
      await assert.rejects(sink.tag('production', image.digest), (err: Error & { code?: string }) =>
        err.code === 'FAILED_PRECONDITION' && err.message.includes(`manifest ${image.digest} is not in the repository`) && err.message.includes('models/t'));
      await assert.rejects(sink.tag('bad tag', image.digest), { code: 'INVALID_ARGUMENT' });
      await assert.rejects(sink.tag('production', 'sha256:abc'), { code: 'INVALID_ARGUMENT' });
      const away = registrySink({ registry: '127.0.0.1:5000', insecure: true, repository: 'models/t', fetch: manifestRegistry([v1], { unreachable: true }).fetchImpl });
      await assert.rejects(away.tag('production', sha256Digest(v1.raw)), { code: 'UNAVAILABLE' });
    });

    it('untag leaves the tag (and the image) in the registry, saying why, with no request', async () => {
      const registry = manifestRegistry([v1]);
      const sink = registrySink({ registry: '127.0.0.1:5000', insecure: true, repository: 'models/t', fetch: registry.fetchImpl });
      await sink.tag('production', sha256Digest(v1.raw));
      registry.log.length = 0;
      const result = await sink.untag('production');
      assert.equal(result.removed, false);
      assert.match(result.detail ?? '', /deletes manifests by digest only/);
      assert.deepEqual(registry.log, []);
      assert.equal(registry.tags.get('production'), sha256Digest(v1.raw));
    });
  });
});
