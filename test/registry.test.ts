// End-to-end tests of the registry through gRPC against the real Postgres and MinIO that scripts/test-env starts:
// uploads, versions, paging, watch, download, delete, every bad-archive and bad-manifest case, cancellation,
// concurrency, and a 2 GiB upload in flat memory.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import pg from 'pg';
import { registryClient, type RegistryClient } from '@kiln/api';
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import type { ListModelVersionsResponse__Output } from '@kiln/api/generated/kiln/v1/ListModelVersionsResponse';
import type { ListModelsResponse__Output } from '@kiln/api/generated/kiln/v1/ListModelsResponse';
import { openBlobStore } from '@kiln/blobstore/open';
import { tarOf } from '@kiln/archive/testing';
import type { BlobStore } from '@kiln/blobstore';
import { createLogger } from '@kiln/log';
import { startRegistry } from '../services/registry/src/index';
import { ingestUpload } from '../services/registry/src/upload';
import { sweepLapsedUploads } from '../services/registry/src/gc';
import { PostgresStore } from '../services/registry/src/store/postgres';
import { startInference } from '../services/inference/src/index';
import { upload, uploadSource } from '../cli/src/upload';
import { configFrom, realServersEnv } from './helpers/test-config';
import { assertGrpcError, unary, uploadStream, watchAll } from './helpers/grpc';

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures/third-party');
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function blobDigests(blobs: BlobStore): Promise<Set<string>> {
  const set = new Set<string>();
  for await (const b of blobs.list()) set.add(b.digest);
  return set;
}

describe('registry end to end on real Postgres and MinIO', () => {
  let client: RegistryClient;
  let blobs: BlobStore;
  let stop: () => Promise<void>;
  let sharedEnv: Record<string, string>;
  let log: ReturnType<typeof createLogger>;

  before(async () => {
    const env = await realServersEnv({
      KILN_MAX_FILE_BYTES: String(3 * GiB),
      KILN_MAX_UPLOAD_BYTES: String(3 * GiB),
      KILN_MAX_FILES: '50',
    });
    log = createLogger('test', env.KILN_LOG_LEVEL);
    const inference = await startInference(configFrom(env), log);
    sharedEnv = { ...env, KILN_INFERENCE_ADDRESS: inference.address };
    const config = configFrom(sharedEnv);
    const registry = await startRegistry(config, log);
    client = registryClient(registry.address);
    blobs = await openBlobStore(config.blobs);
    stop = async () => {
      client.close();
      await registry.stop();
      await inference.stop();
    };
  });
  after(() => stop());

  /** Whatever a failed upload did, it left nothing: no version of the model, no new blob, no temp object. */
  async function assertNothingLeft(model: string, blobsBefore: Set<string>): Promise<void> {
    await assertGrpcError(unary(client, 'GetModelVersion', { model, version: 0 }), 'NOT_FOUND', new RegExp(model));
    assert.deepEqual([...(await blobDigests(blobs))].sort(), [...blobsBefore].sort(), 'no new blob is left');
    assert.equal(await blobs.listIncomplete(), 0, 'no temp object or open multipart upload is left');
  }

  it('uploads a SavedModel directory: version 1 with every file hashed and the contract inferred', async () => {
    const dir = path.join(FIXTURES, 'tf-serving/saved_model_half_plus_two_cpu/00000123');
    const v = await upload(client, await uploadSource(dir), { header: { model: 'half-plus-two', labels: { team: 'ml' } } });
    assert.equal(v.model, 'half-plus-two');
    assert.equal(v.version, 1);
    assert.equal(v.status, 'MODEL_VERSION_STATUS_BUILDING');
    const pb = await readFile(path.join(dir, 'saved_model.pb'));
    const file = v.files.find((f) => f.path === 'saved_model.pb');
    assert.deepEqual(file && { size: file.size, sha256: file.sha256 }, { size: pb.length, sha256: sha256(pb) });
    assert.equal(v.contract?.source, 'savedmodel');
    const serving = v.contract?.signatures.find((s) => s.name === 'serving_default');
    assert.equal(serving?.inputs[0].name, 'x');
    assert.deepEqual(serving?.inputs[0].tensor?.shape?.dims.map((d) => d.size), [-1, 1]);
    assert.deepEqual(v.labels, { team: 'ml' });
    const got = await unary<unknown, ModelVersion__Output>(client, 'GetModelVersion', { model: 'half-plus-two', version: 1 });
    assert.deepEqual(got.files, v.files);
  });

  it('uploads a single ONNX file with its contract and ONNX metadata', async () => {
    const v = await upload(client, await uploadSource(path.join(FIXTURES, 'hydrosphere/onnx_mnist/mnist.onnx')), { header: { model: 'mnist' } });
    assert.deepEqual(v.files.map((f) => f.path), ['mnist.onnx']);
    assert.equal(v.contract?.source, 'onnx');
    assert.equal(v.contract?.signatures[0].inputs[0].name, 'Input73');
    assert.equal(v.metadata['onnx.producer_name'], 'CNTK');
  });

  it('a re-upload with one file changed is version N+1 and stores only the changed file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-reupload-'));
    await writeFile(path.join(dir, 'weights.bin'), randomBytes(3 * MiB));
    await writeFile(path.join(dir, 'vocab.txt'), randomBytes(1000));
    await writeFile(path.join(dir, 'config.json'), '{"a":1}');
    const v1 = await upload(client, await uploadSource(dir), { header: { model: 'reupload' } });
    const before = await blobDigests(blobs);
    await writeFile(path.join(dir, 'config.json'), '{"a":2}');
    const v2 = await upload(client, await uploadSource(dir), { header: { model: 'reupload' } });
    assert.equal(v2.version, v1.version + 1);
    const added = [...(await blobDigests(blobs))].filter((d) => !before.has(d));
    assert.deepEqual(added, [sha256(Buffer.from('{"a":2}'))], 'exactly one new blob: the changed file');
    assert.equal(v2.files.find((f) => f.path === 'weights.bin')?.sha256, v1.files.find((f) => f.path === 'weights.bin')?.sha256);
  });

  it('download streams the version as a tar whose files are byte-identical to the upload', async () => {
    const dir = path.join(FIXTURES, 'tf-serving/saved_model_half_plus_two_cpu/00000123');
    const extract = tar.extract();
    const got = new Map<string, Buffer>();
    const reading = (async () => {
      for await (const entry of extract) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        got.set(entry.header.name, Buffer.concat(chunks));
      }
    })();
    for await (const msg of client.DownloadModelVersion({ model: 'half-plus-two', version: 1 })) extract.write((msg as { chunk: Buffer }).chunk);
    extract.end(() => {});
    await reading;
    const v = await unary<unknown, ModelVersion__Output>(client, 'GetModelVersion', { model: 'half-plus-two', version: 1 });
    assert.deepEqual([...got.keys()].sort(), v.files.map((f) => f.path));
    for (const [name, bytes] of got) assert.ok(bytes.equals(await readFile(path.join(dir, name))), name);
  });

  it('lists versions newest first in pages, filtered by label; lists models by name in pages', async () => {
    for (let i = 0; i < 5; i++) {
      await uploadStream(client, { model: 'paged', fileName: 'm.bin', labels: { parity: i % 2 ? 'odd' : 'even' } }, Buffer.from(`model ${i}`));
    }
    const seen: number[] = [];
    let pageToken = '';
    do {
      const page = await unary<unknown, ListModelVersionsResponse__Output>(client, 'ListModelVersions', { model: 'paged', pageSize: 2, pageToken });
      assert.ok(page.versions.length <= 2);
      seen.push(...page.versions.map((v) => v.version));
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.deepEqual(seen, [5, 4, 3, 2, 1]);
    const even = await unary<unknown, ListModelVersionsResponse__Output>(client, 'ListModelVersions', { model: 'paged', labels: { parity: 'even' } });
    assert.deepEqual(even.versions.map((v) => v.version), [5, 3, 1]);
    const names: string[] = [];
    pageToken = '';
    do {
      const page = await unary<unknown, ListModelsResponse__Output>(client, 'ListModels', { pageSize: 1, pageToken });
      names.push(...page.models.map((m) => m.name));
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.deepEqual(names, [...names].sort());
    assert.ok(names.includes('paged') && names.includes('mnist'));
    await assertGrpcError(unary(client, 'ListModelVersions', { model: 'paged', pageToken: 'garbage' }), 'INVALID_ARGUMENT', /page token/);
    await assertGrpcError(unary(client, 'ListModelVersions', { model: 'no-such-model' }), 'NOT_FOUND', /no-such-model/);
  });

  it('delete marks the version deleted and removes only the blobs no other version uses; watch sees it and ends', async () => {
    const shared = randomBytes(4096);
    const own = randomBytes(4096);
    await uploadStream(client, { model: 'to-delete', fileName: 'shared.bin' }, shared);
    const v2 = await uploadStream(client, { model: 'to-delete' }, await tarOf([{ name: 'shared.bin', content: shared }, { name: 'own.bin', content: own }]));
    const watching = watchAll(client, 'to-delete', v2.version);
    await new Promise((r) => setTimeout(r, 300));
    const deleted = await unary<unknown, ModelVersion__Output>(client, 'DeleteModelVersion', { model: 'to-delete', version: v2.version });
    assert.equal(deleted.status, 'MODEL_VERSION_STATUS_DELETED');
    const events = await watching;
    assert.equal(events[0].version?.status, 'MODEL_VERSION_STATUS_BUILDING');
    assert.equal(events.at(-1)?.version?.status, 'MODEL_VERSION_STATUS_DELETED');
    await assertGrpcError(unary(client, 'GetModelVersion', { model: 'to-delete', version: v2.version }), 'NOT_FOUND',
      new RegExp(`model to-delete version 2 was deleted at ${new Date().toISOString().slice(0, 10)}T`));
    const latest = await unary<unknown, ModelVersion__Output>(client, 'GetModelVersion', { model: 'to-delete', version: 0 });
    assert.equal(latest.version, 1);
    // "Latest" is one thing everywhere: ListModels says what GetModelVersion's version 0 gives.
    const listed = await unary<unknown, { models: Array<{ name: string; latestVersion: number }> }>(client, 'ListModels', { namePrefix: 'to-delete' });
    assert.deepEqual(listed.models.map((m) => [m.name, Number(m.latestVersion)]), [['to-delete', 1]]);
    const digests = await blobDigests(blobs);
    assert.ok(digests.has(sha256(shared)), 'the blob version 1 still uses stays');
    assert.ok(!digests.has(sha256(own)), 'the blob only the deleted version used is gone');
    await assertGrpcError(unary(client, 'DeleteModelVersion', { model: 'to-delete', version: v2.version }), 'NOT_FOUND', /already deleted/);
  });


  it("a delete on one registry replica reaches another replica's cache of released versions (NOTIFY)", async () => {
    const v = await uploadStream(client, { model: 'cached', fileName: 'm.bin' }, Buffer.from('cached model'));
    // Release it as a build would (no builder runs in this file), straight in the shared database.
    const pool = new pg.Pool({ connectionString: sharedEnv.DATABASE_URL, max: 1 });
    await pool.query(
      `UPDATE model_versions SET status = 'RELEASED', image_reference = 'example/cached:1' WHERE model = $1 AND version = $2`,
      ['cached', v.version],
    );
    await pool.end();
    const got = await unary<unknown, ModelVersion__Output>(client, 'GetModelVersion', { model: 'cached', version: v.version });
    assert.equal(got.status, 'MODEL_VERSION_STATUS_RELEASED');
    const second = await startRegistry(configFrom(sharedEnv), log);
    const other = registryClient(second.address);
    try {
      await unary(other, 'DeleteModelVersion', { model: 'cached', version: v.version });
      let status = '';
      for (let i = 0; i < 50; i++) {
        status = await unary<unknown, ModelVersion__Output>(client, 'GetModelVersion', { model: 'cached', version: v.version })
          .then((r) => String(r.status), (e: { code: number }) => (e.code === 5 ? 'NOT_FOUND' : String(e)));
        if (status === 'NOT_FOUND') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 'NOT_FOUND', 'the first replica no longer serves the deleted version');
    } finally {
      other.close();
      await second.stop();
    }
  });

  const badArchives: Array<[string, () => Promise<Buffer>, string, RegExp]> = [
    ['an absolute path', () => tarOf([{ name: '/etc/passwd', content: Buffer.from('x') }]), 'INVALID_ARGUMENT', /"\/etc\/passwd".*absolute/],
    ["a '..' path", () => tarOf([{ name: 'ok.txt', content: Buffer.from('ok') }, { name: '../x', content: Buffer.from('x') }]), 'INVALID_ARGUMENT', /"\.\.\/x"/],
    ['a symlink escaping the root', () => tarOf([{ name: 'link', type: 'symlink', linkname: '../../../etc/shadow' }]), 'INVALID_ARGUMENT', /"link".*escapes/],
    ['a device file', () => tarOf([{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }]), 'INVALID_ARGUMENT', /"sda".*not allowed/],
    ['duplicate paths', () => tarOf([{ name: 'a.bin', content: randomBytes(100) }, { name: 'a.bin', content: randomBytes(100) }]), 'INVALID_ARGUMENT', /duplicate path a\.bin/],
    ['too many files', () => tarOf(Array.from({ length: 51 }, (_, i) => ({ name: `f${i}.txt`, content: Buffer.from(String(i)) }))), 'INVALID_ARGUMENT', /more than 50 files/],
    ['an entry over the size limit (a gzip bomb: 4 GiB declared, a few KiB sent)', async () => {
      // The first MiB of a real tar of one 4 GiB file: its header, then zeros.
      const pack = tar.pack();
      pack.entry({ name: 'bomb.bin', size: 4 * GiB }).write(Buffer.alloc(MiB));
      const chunks: Buffer[] = [];
      let length = 0;
      for await (const c of pack as unknown as AsyncIterable<Buffer>) {
        chunks.push(c);
        length += c.length;
        if (length >= MiB + 512) break;
      }
      return gzipSync(Buffer.concat(chunks));
    }, 'INVALID_ARGUMENT', /"bomb\.bin".*over the limit/],
    ['a truncated tar', async () => (await tarOf([{ name: 'w.bin', content: randomBytes(20_000) }])).subarray(0, 9000), 'INVALID_ARGUMENT', /archive/],
    ['a corrupt gzip', async () => {
      const gz = gzipSync(await tarOf([{ name: 'w.bin', content: Buffer.alloc(50_000, 3) }]));
      gz.fill(0xaa, 20, 40);
      return gz;
    }, 'INVALID_ARGUMENT', /gzip|archive/],
    ['an empty archive', async () => gzipSync(await tarOf([])), 'INVALID_ARGUMENT', /no files/],
  ];
  for (const [what, make, code, details] of badArchives) {
    it(`rejects ${what} with ${code} naming the entry, and keeps nothing`, async () => {
      const before = await blobDigests(blobs);
      const model = `bad-${what.replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '').slice(0, 40)}`;
      await assertGrpcError(uploadStream(client, { model }, await make()), code as never, details);
      await assertNothingLeft(model, before);
    });
  }

  const badManifests: Array<[string, string, RegExp]> = [
    ['a shape that is not a list', 'kind: Model\nname: m\ncontract:\n  inputs:\n    x:\n      shape: [-1, 2.5]\n      type: float32\n  outputs:\n    y:\n      shape: scalar\n      type: float32\n', /contract\.inputs\.x\.shape/],
    ['an unknown type', 'kind: Model\nname: m\ncontract:\n  inputs:\n    x:\n      shape: scalar\n      type: float33\n', /contract\.inputs\.x\.type/],
    ['broken YAML', 'kind: Model\n  name: : m\n', /kiln\.yaml|manifest|YAML/i],
    ['a runtime that is not an image reference', 'kind: Model\nname: m\nruntime: "not an image!"\n', /runtime/],
  ];
  for (const [what, manifest, details] of badManifests) {
    it(`rejects a manifest with ${what}, naming the field, and keeps nothing`, async () => {
      const before = await blobDigests(blobs);
      const model = `manifest-${what.replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '').slice(0, 40)}`;
      const archive = await tarOf([{ name: 'kiln.yaml', content: Buffer.from(manifest) }, { name: 'model.pkl', content: randomBytes(500) }]);
      await assertGrpcError(uploadStream(client, { model }, archive), 'INVALID_ARGUMENT', details);
      await assertNothingLeft(model, before);
    });
  }

  it('rejects a manifest that contradicts the ONNX model, naming the field', async () => {
    const before = await blobDigests(blobs);
    const onnx = await readFile(path.join(FIXTURES, 'hydrosphere/onnx_mnist/mnist.onnx'));
    const manifest = 'kind: Model\nname: mnist-bad\ncontract:\n  inputs:\n    Input73:\n      shape: [1, 1, 28, 28]\n      type: int64\n' +
      '  outputs:\n    Plus422_Output_0:\n      shape: [1, 10]\n      type: float32\n';
    await assertGrpcError(
      uploadStream(client, { model: 'mnist-bad', manifest }, await tarOf([{ name: 'mnist.onnx', content: onnx }])),
      'INVALID_ARGUMENT',
      /contract\.inputs\.Input73\.type/,
    );
    await assertNothingLeft('mnist-bad', before);
  });

  it('keeps team/name models apart, lists one namespace in pages, and answers default/name as name', async () => {
    const team = `team-${randomBytes(4).toString('hex')}`;
    for (const m of [`${team}/fraud`, `${team}/churn`, `${team}/fraud`]) await uploadStream(client, { model: m, fileName: 'm.bin' }, Buffer.from(m));
    const short = await uploadStream(client, { model: `default/${team}-fraud`, fileName: 'm.bin' }, Buffer.from('default'));
    assert.equal(short.model, `${team}-fraud`, 'the canonical name of a default-namespace model has no default/');
    const list = (q: Record<string, unknown>) =>
      unary<unknown, ListModelsResponse__Output>(client, 'ListModels', q).then((r) => r.models.map((m) => [m.name, Number(m.latestVersion)]));

    assert.deepEqual(await list({ namespace: team }), [[`${team}/churn`, 1], [`${team}/fraud`, 2]]);
    const first = await unary<unknown, ListModelsResponse__Output>(client, 'ListModels', { namespace: team, pageSize: 1 });
    assert.deepEqual(first.models.map((m) => m.name), [`${team}/churn`]);
    assert.deepEqual(await list({ namespace: team, pageToken: first.nextPageToken }), [[`${team}/fraud`, 2]]);
    const defaults = (await list({ namespace: 'default', pageSize: 1000 })).map(([n]) => n);
    assert.ok(defaults.includes(`${team}-fraud`) && defaults.every((n) => !String(n).includes('/')), defaults.join(' '));
    assert.deepEqual(await list({ namePrefix: `default/${team}-` }), [[`${team}-fraud`, 1]], 'a prefix in the long form');
    assert.deepEqual(await list({ namePrefix: `${team}/f` }), [[`${team}/fraud`, 2]]);
    assert.deepEqual(await list({ namespace: team, namePrefix: `default/${team}-` }), [], 'two namespaces: nothing');

    // One model, whichever form a call names it by.
    const got = (model: string) => unary<unknown, ModelVersion__Output>(client, 'GetModelVersion', { model, version: 1 });
    assert.deepEqual(await got(`default/${team}-fraud`), await got(`${team}-fraud`));
    const versions = await unary<unknown, ListModelVersionsResponse__Output>(client, 'ListModelVersions', { model: `default/${team}-fraud` });
    assert.deepEqual(versions.versions.map((v) => [v.model, v.version]), [[`${team}-fraud`, 1]]);
    assert.equal((await got(`${team}/fraud`)).files[0].sha256, sha256(Buffer.from(`${team}/fraud`)));
    await assertGrpcError(got(`${team}/${team}-fraud`), 'NOT_FOUND', /does not exist/);
    const deleted = await unary<unknown, ModelVersion__Output>(client, 'DeleteModelVersion', { model: `default/${team}-fraud`, version: 1 });
    assert.deepEqual([deleted.model, deleted.status], [`${team}-fraud`, 'MODEL_VERSION_STATUS_DELETED']);

    await assertGrpcError(unary(client, 'ListModels', { namespace: 'Team' }), 'INVALID_ARGUMENT', /ListModelsRequest\.namespace/);
    await assertGrpcError(uploadStream(client, { model: `${team}/a/b`, fileName: 'm.bin' }, Buffer.from('x')), 'INVALID_ARGUMENT', /one slash/);
    await assertGrpcError(uploadStream(client, { model: 'kiln/layers', fileName: 'm.bin' }, Buffer.from('x')), 'INVALID_ARGUMENT', /kept for Kiln's own images/);
    await assertGrpcError(got('Team/fraud'), 'INVALID_ARGUMENT', /GetModelVersionRequest\.model/);
  });

  it('rejects bad headers: no header first, a bad model name, a single file without a name', async () => {
    await assertGrpcError(
      new Promise((resolve, reject) => {
        const call = client.UploadModel((err, v) => (err ? reject(err) : resolve(v)));
        call.write({ chunk: Buffer.from('bytes') });
        call.end();
      }),
      'INVALID_ARGUMENT',
      /first message.*header/,
    );
    await assertGrpcError(uploadStream(client, { model: 'Bad Name!' }, Buffer.from('x')), 'INVALID_ARGUMENT', /header\.model/);
    await assertGrpcError(uploadStream(client, { model: 'nameless' }, Buffer.from('plain bytes')), 'INVALID_ARGUMENT', /file_name/);
  });

  it('sweeps, beside serving, what an upload that died hours ago left: its pending blob and record', async () => {
    const info = await blobs.put(Readable.from([randomBytes(4096)]));
    const db = new pg.Client({ connectionString: sharedEnv.DATABASE_URL });
    await db.connect();
    try {
      await db.query(
        `INSERT INTO pending_blobs (upload_id, sha256, create_time) VALUES (gen_random_uuid(), $1, now() - interval '7 hours')`,
        [info.digest],
      );
      // Another registry on the same database and bucket sweeps as it starts, while already serving.
      const second = await startRegistry(configFrom({ ...sharedEnv, KILN_REGISTRY_LISTEN: '127.0.0.1:0' }), log);
      try {
        const deadline = Date.now() + 20_000;
        while ((await blobs.stat(info.digest)) !== null) {
          if (Date.now() > deadline) assert.fail('the dead upload\'s blob is still there after 20 s');
          await new Promise((r) => setTimeout(r, 100));
        }
        // The blob goes inside the transaction that drops its record (a failed delete keeps the record): the record
        // is gone once that transaction commits, a moment later.
        const pendingRecords = async () => (await db.query('SELECT count(*)::int AS n FROM pending_blobs WHERE sha256 = $1', [info.digest])).rows[0].n;
        while ((await pendingRecords()) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        assert.equal(await pendingRecords(), 0, 'its record is gone too');
      } finally {
        await second.stop();
      }
    } finally {
      await db.end();
    }
  });

  it('an upload in progress renews its lease, so no sweep takes what it stored from under it', async () => {
    const pool = new pg.Pool({ connectionString: sharedEnv.DATABASE_URL, max: 2 });
    const store = new PostgresStore(pool);
    const pack = tar.pack();
    const body = new PassThrough();
    pack.pipe(body);
    const first = randomBytes(2048);
    const digest = sha256(first);
    try {
      const ingest = ingestUpload(
        { model: 'long-upload', manifest: '', labels: {}, metadata: {}, format: 'tar', fileName: '', expectedSize: 0 },
        body,
        {
          store, blobs, limits: configFrom(sharedEnv).limits, log,
          inferContract: async () => ({ contract: null, metadata: {} }),
          onVersionCreated: async () => {},
          uploadLeaseMs: 1000,
        },
        new AbortController().signal,
      );
      pack.entry({ name: 'first.bin', size: first.length }, first);
      const pending = async () => (await pool.query('SELECT count(*)::int AS n FROM pending_blobs WHERE sha256 = $1', [digest])).rows[0].n;
      const deadline = Date.now() + 20_000;
      while ((await pending()) === 0) {
        if (Date.now() > deadline) assert.fail('the first file never became a pending blob');
        await new Promise((r) => setTimeout(r, 50));
      }
      // The upload stalls (a slow client) for three lease periods while sweeps look for lapsed leases.
      for (let i = 0; i < 15; i++) {
        await sweepLapsedUploads({ store, blobs }, 1000, log);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(await pending(), 1, 'the live upload kept its pending blob');
      pack.entry({ name: 'second.bin' }, 'the rest');
      pack.finalize();
      const version = await ingest;
      assert.deepEqual(version.files.map((f) => f.path).sort(), ['first.bin', 'second.bin']);
      assert.notEqual(await blobs.stat(digest), null);
    } finally {
      await pool.end();
    }
  });

  it('a cancelled upload leaves no version, no object and no open multipart upload', async () => {
    const before = await blobDigests(blobs);
    const call = client.UploadModel(() => {});
    call.on('error', () => {});
    call.write({ header: { model: 'cancelled', fileName: 'big.bin' } });
    const chunk = randomBytes(MiB);
    for (let i = 0; i < 40; i++) {
      if (!call.write({ chunk })) await new Promise((r) => call.once('drain', r));
    }
    await new Promise((r) => setTimeout(r, 500));
    call.cancel();
    // The server sees the cancellation asynchronously: grpc-js can end the message stream before it flags the call
    // as cancelled, so the bytes may be stored first and collected when the cancellation lands. Wait until it has
    // written something and cleaned it up again (or, on a starved machine, for a while).
    let wrote = false;
    for (let i = 0; i < 100; i++) {
      const left = (await blobs.listIncomplete()) + [...(await blobDigests(blobs))].filter((d) => !before.has(d)).length;
      if (left > 0) wrote = true;
      else if (wrote) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await assertNothingLeft('cancelled', before);
  });

  it('32 concurrent uploads of one name get versions 1..32, each exactly once', async () => {
    const versions = await Promise.all(
      Array.from({ length: 32 }, (_, i) => uploadStream(client, { model: 'concurrent', fileName: 'm.bin' }, Buffer.from(`model ${i}`))),
    );
    assert.deepEqual(versions.map((v) => v.version).sort((a, b) => a - b), Array.from({ length: 32 }, (_, i) => i + 1));
  });
});
