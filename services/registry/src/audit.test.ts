// The audit trail's rules on the in-memory store, without servers: what the interceptor records of failed and refused
// calls, one record per call, and none of a change that rolled back (but the failure's).
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { HandlerContext } from '@kiln/api/context';
import type { ServerCall } from '@kiln/api/server';
import { tarOf } from '@kiln/archive/testing';
import { KilnError, permissionDenied } from '@kiln/errors';
import { createLogger } from '@kiln/log';
import { auditEvent, auditTrail } from './audit';
import { MemoryStore } from './store/memory';
import { ingestUpload, type UploadHeaderInput } from './upload';

const log = createLogger('test', 'silent');

function contextOf(rpc: string): HandlerContext {
  return {
    rpc: `kiln.v1.Registry/${rpc}`,
    caller: { kind: 'token', peer: '10.0.0.7:41000', tokenId: 'tok_0123', owner: 'alice', bindings: [] },
  } as unknown as HandlerContext;
}

/** Runs `handler` as the call `rpc` through the audit interceptor; a client stream's messages go through its check. */
async function callThrough(store: MemoryStore, rpc: string, request: unknown, handler: (context: HandlerContext) => Promise<void>, messages?: unknown[]) {
  const context = contextOf(rpc);
  const checks: Array<(m: unknown) => void> = [];
  const call = {
    service: 'kiln.v1.Registry', method: rpc, type: messages ? 'client_stream' : 'unary', context, request,
    onMessage: (check: (m: unknown) => void) => checks.push(check),
  } as unknown as ServerCall;
  await auditTrail(store, log)(async () => {
    for (const m of messages ?? []) for (const check of checks) check(m);
    await handler(context);
  })(call);
}

const records = (store: MemoryStore) => store.listAuditEvents({ pageSize: 100 });

describe('the audit trail', () => {
  it('records a failed change with its code, message, caller, peer and canonical model, and a refused read; not a read that merely failed', async () => {
    const store = new MemoryStore();
    await assert.rejects(callThrough(store, 'DeleteModelVersion', { model: 'default/fraud', version: 3 }, async () => {
      throw new KilnError('FAILED_PRECONDITION', 'version 3 is the alias production\'s');
    }));
    await assert.rejects(callThrough(store, 'GetModelVersion', { model: 'risk/m', version: 1 }, async () => {
      throw permissionDenied('token tok_0123 (owner alice) lacks role reader in namespace risk');
    }));
    await assert.rejects(callThrough(store, 'GetModelVersion', { model: 'm', version: 9 }, async () => {
      throw new KilnError('NOT_FOUND', 'model m has no version 9');
    }));
    const [refused, failed, ...rest] = await records(store);
    assert.deepEqual(rest, [], 'a read that failed is not audited');
    assert.deepEqual(
      { caller: failed.caller, rpc: failed.rpc, model: failed.model, namespace: failed.namespace, version: failed.version, result: failed.result, message: failed.message, peer: failed.peer },
      { caller: 'token:tok_0123', rpc: 'kiln.v1.Registry/DeleteModelVersion', model: 'fraud', namespace: 'default', version: 3, result: 'FAILED_PRECONDITION', message: 'version 3 is the alias production\'s', peer: '10.0.0.7:41000' },
    );
    assert.deepEqual([refused.model, refused.namespace, refused.result], ['risk/m', 'risk', 'PERMISSION_DENIED']);
  });

  it('keeps an INTERNAL\'s details out of the record, and caps a huge name and message', async () => {
    const store = new MemoryStore();
    const huge = 'x'.repeat(128 * 1024);
    await assert.rejects(callThrough(store, 'DeleteModelVersion', { model: huge, version: 1 }, async () => {
      throw new Error(`password=hunter2 ${huge}`);
    }));
    const [record] = await records(store);
    assert.equal(record.result, 'INTERNAL');
    assert.ok(!record.message.includes('hunter2'), record.message);
    assert.ok(Buffer.byteLength(record.model) <= 256, `${Buffer.byteLength(record.model)} bytes of model name`);
  });

  it('takes a client stream\'s model from its first message, also when a later check refuses that message', async () => {
    const store = new MemoryStore();
    const header = { header: { model: 'team/upl' } };
    // Authorization's check is registered after audit's (its interceptor comes later) and refuses the first message.
    const context = contextOf('UploadModel');
    const checks: Array<(m: unknown) => void> = [];
    const call = { service: 'kiln.v1.Registry', method: 'UploadModel', type: 'client_stream', context, onMessage: (c: (m: unknown) => void) => checks.push(c) } as unknown as ServerCall;
    const refuseAfterAudit = auditTrail(store, log)(async (c) => {
      c.onMessage(() => { throw permissionDenied('lacks role writer in namespace team'); });
      for (const check of checks) check(header);
    });
    await assert.rejects(refuseAfterAudit(call), /lacks role writer/);
    const [refused] = await records(store);
    assert.deepEqual([refused.model, refused.namespace, refused.rpc, refused.result], ['team/upl', 'team', 'kiln.v1.Registry/UploadModel', 'PERMISSION_DENIED']);
  });

  it('records a call once: a change that committed its record is not recorded again when the call fails afterwards', async () => {
    const store = new MemoryStore();
    await assert.rejects(callThrough(store, 'DeleteModelVersion', { model: 'm', version: 1 }, async (context) => {
      await store.inTransaction((tx) => tx.recordAuditEvent(auditEvent(context, { model: 'm', version: 1, message: 'deleted version 1' })));
      throw new KilnError('UNAVAILABLE', 'the answer could not be sent');
    }));
    assert.deepEqual((await records(store)).map((r) => [r.result, r.message]), [['OK', 'deleted version 1']]);
  });

  it('has no OK record of an upload whose transaction rolled back, only its failure; a committed upload has its OK record', async () => {
    const store = new MemoryStore();
    const blobs = {
      stage: async (source: Readable) => {
        const chunks: Buffer[] = [];
        for await (const c of source) chunks.push(c as Buffer);
        return { digest: 'd'.repeat(64), size: Buffer.concat(chunks).length, commit: async () => {}, abort: async () => {} };
      },
      delete: async () => {},
      discardStaging: async () => {},
    };
    const deps = {
      store, blobs, log, limits: { maxFileBytes: 1 << 20, maxTotalBytes: 1 << 22, maxFiles: 10 }, uploadLeaseMs: 3600_000,
      inferContract: async () => ({ contract: null, metadata: {} }),
      onVersionCreated: async () => {},
    };
    const header: UploadHeaderInput = { model: 'm', manifest: '', labels: {}, metadata: {}, format: 'tar', fileName: '', expectedSize: 0 };
    const upload = (cancelAfterRecord: boolean) => callThrough(store, 'UploadModel', undefined, async (context) => {
      const body = await tarOf([{ name: 'model.bin', content: Buffer.from('weights') }]);
      const cancel = new AbortController();
      await ingestUpload(header, Readable.from([body]), deps, cancel.signal, async (tx, created) => {
        await tx.recordAuditEvent(auditEvent(context, { model: created.model, version: created.version, message: `created version ${created.version}` }));
        // The client cancels after the record is written, before the transaction commits: all of it rolls back.
        if (cancelAfterRecord) cancel.abort(new KilnError('CANCELLED', 'the client cancelled the call'));
      });
    }, [{ header: { model: 'm' } }]);
    await assert.rejects(upload(true), /the client cancelled/);
    await upload(false);
    assert.deepEqual((await records(store)).map((r) => [r.result, r.version, r.model]), [['OK', 1, 'm'], ['CANCELLED', 0, 'm']]);
    assert.equal((await store.getVersion('m', 0))?.version, 1, 'the rolled-back upload made no version');
  });
});
