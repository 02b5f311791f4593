// Path reads of InferContract: only under KILN_INFERENCE_PATH_ROOTS, checked after resolving symlinks, with the
// status codes a client sees over a real gRPC server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { inferenceClient, kilnProto } from '@kiln/api';
import { startServer } from '@kiln/api/server';
import { KilnError } from '@kiln/errors';
import { createLogger } from '@kiln/log';
import { allowedModelPath } from './paths';
import { inferenceHandlers } from './service';

const SHARED = path.resolve(import.meta.dirname, '../../../test/fixtures/third-party');

/** root/ holds a model and a link to the outside; outside/ holds a secret file. */
function tree(t: { after(fn: () => void): void }) {
  const base = mkdtempSync(path.join(os.tmpdir(), 'kiln-path-roots-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, 'root');
  mkdirSync(path.join(root, 'model'), { recursive: true });
  mkdirSync(path.join(base, 'outside'));
  writeFileSync(path.join(base, 'outside', 'secret.onnx'), 'x');
  symlinkSync(path.join(base, 'outside'), path.join(root, 'link'));
  return { base, root };
}

async function code(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => assert.fail('expected an error'), (e: unknown) => e);
  assert.ok(err instanceof KilnError, String(err));
  assert.equal(err.location, 'req.path');
  return err.code;
}

test('paths: read only under a configured root; outside, through .. or a symlink, or with no roots: refused', async (t) => {
  const { base, root } = tree(t);
  assert.equal(await allowedModelPath(path.join(root, 'model'), [root], 'req.path'), path.join(realpathSync(root), 'model'));
  assert.equal(await code(allowedModelPath(path.join(root, 'model'), [], 'req.path')), 'FAILED_PRECONDITION');
  assert.equal(await code(allowedModelPath('/etc/passwd', [root], 'req.path')), 'INVALID_ARGUMENT');
  assert.equal(await code(allowedModelPath(path.join(root, '..', 'outside', 'secret.onnx'), [root], 'req.path')), 'INVALID_ARGUMENT');
  assert.equal(await code(allowedModelPath(path.join(root, 'link', 'secret.onnx'), [root], 'req.path')), 'INVALID_ARGUMENT');
  assert.equal(await code(allowedModelPath('model', [root], 'req.path')), 'INVALID_ARGUMENT');
  // A missing path is NOT_FOUND under a root; outside, whether it exists is not told.
  assert.equal(await code(allowedModelPath(path.join(root, 'nope'), [root], 'req.path')), 'NOT_FOUND');
  assert.equal(await code(allowedModelPath(path.join(base, 'nope'), [root], 'req.path')), 'INVALID_ARGUMENT');
  // A root that is a prefix of another folder's name does not admit it (/a/root vs /a/rootless).
  mkdirSync(`${root}less`);
  assert.equal(await code(allowedModelPath(`${root}less`, [root], 'req.path')), 'INVALID_ARGUMENT');
});

test('InferContract by path over gRPC: a model under the roots is read; others are refused with the status codes', async (t) => {
  const log = createLogger('test', 'silent');
  const handlers = inferenceHandlers({
    blobs: { readRange: () => assert.fail('no blob reads for a path') },
    registry: () => assert.fail('no registry calls for a path'),
    limits: { maxFileBytes: 1 << 20, maxTotalBytes: 1 << 20, maxFiles: 10 },
    log,
    pathRoots: [path.join(SHARED, 'hydrosphere')],
  });
  const server = await startServer([{ name: 'kiln.v1.Inference', definition: kilnProto().kiln.v1.Inference.service, implementation: handlers }], '127.0.0.1:0', log);
  const client = inferenceClient(server.address);
  t.after(async () => {
    client.close();
    await server.shutdown(1000);
  });
  const infer = (p: string) =>
    new Promise<{ format: string }>((resolve, reject) => client.InferContract({ path: p }, (e, r) => (e ? reject(e) : resolve(r!))));
  assert.equal((await infer(path.join(SHARED, 'hydrosphere/onnx_mnist'))).format, 'onnx');
  for (const [p, status] of [
    [path.join(SHARED, 'tf-serving/saved_model_half_plus_two_cpu/00000123'), grpc.status.INVALID_ARGUMENT],
    ['/etc', grpc.status.INVALID_ARGUMENT],
    [path.join(SHARED, 'hydrosphere/no-such-model'), grpc.status.NOT_FOUND],
  ] as const) {
    const err = await infer(p).then(() => assert.fail(`read ${p}`), (e: grpc.ServiceError) => e);
    assert.equal(err.code, status, `${p}: ${err.message}`);
    assert.match(err.details, /InferContractRequest\.path/);
  }
});
