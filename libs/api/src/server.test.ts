// The handler context and the interceptor chain over real calls: the signal aborts on a client's cancel, its deadline
// and a shutdown's end; draining is told to long calls; log fields added by a handler reach the 'call failed' line;
// a server stream's generator is returned when the client goes; an extra interceptor joins the chain.
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { PassThrough } from 'node:stream';
import test from 'node:test';
import { pino } from 'pino';
import { invalidArgument, KilnError } from '@kiln/errors';
import { grpc, inferenceClient, kilnProto, registryClient } from './index';
import { promiseClient } from './client';
import { CallContext, type HandlerContext } from './context';
import type { InferenceImplementation, RegistryImplementation } from './handlers';
import { startServer, type Interceptor, type ServiceRegistration } from './server';

const silent = pino({ level: 'silent' });
const never = () => { throw new Error('not called'); };

/** An Inference server whose InferContract is `infer`. */
async function inferenceServer(t: test.TestContext, infer: InferenceImplementation['InferContract'], log = silent) {
  const registration: ServiceRegistration = {
    name: 'kiln.v1.Inference',
    definition: kilnProto().kiln.v1.Inference.service,
    implementation: { InferContract: infer, InferContractFromUpload: never } satisfies InferenceImplementation,
  };
  const server = await startServer([registration], '127.0.0.1:0', log);
  const raw = inferenceClient(server.address);
  t.after(async () => {
    raw.close();
    await server.shutdown(1000);
  });
  return { server, client: promiseClient(raw) };
}

/** Resolves with the context once the handler has it, and with its signal's reason once that aborts. */
function waitingHandler() {
  let seen!: (context: HandlerContext) => void;
  const context = new Promise<HandlerContext>((resolve) => (seen = resolve));
  const infer: InferenceImplementation['InferContract'] = async (_request, ctx) => {
    seen(ctx);
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    throw ctx.signal.reason;
  };
  return { context, infer };
}

test('a client that cancels aborts the handler\'s signal with CANCELLED, and the call rejects CANCELLED', async (t) => {
  const { context, infer } = waitingHandler();
  const { client } = await inferenceServer(t, infer);
  const abort = new AbortController();
  const call = client.InferContract({ path: '/x' }, { signal: abort.signal });
  const ctx = await context;
  assert.equal(ctx.rpc, 'kiln.v1.Inference/InferContract');
  assert.equal(ctx.caller.kind, 'anonymous');
  assert.match(ctx.caller.peer, /127\.0\.0\.1:\d+/);
  abort.abort();
  await assert.rejects(call, (err: grpc.ServiceError) => err.code === grpc.status.CANCELLED);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(ctx.signal.aborted, true);
  assert.equal(ctx.signal.reason.code, 'CANCELLED');
});

test('a deadline aborts the handler\'s signal: the client\'s cancel at its deadline, or the server\'s own timer, whichever comes first', async (t) => {
  const { context, infer } = waitingHandler();
  const { client } = await inferenceServer(t, infer);
  const call = client.InferContract({ path: '/x' }, { deadline: Date.now() + 300 });
  const ctx = await context;
  assert.ok(ctx.deadline && Math.abs(ctx.deadline - (Date.now() + 300)) < 1000, 'the context has the deadline');
  await assert.rejects(call, (err: grpc.ServiceError) => err.code === grpc.status.DEADLINE_EXCEEDED);
  await new Promise((resolve) => setTimeout(resolve, 100));
  // On loopback the client's RST_STREAM at its deadline usually arrives before the server's timer fires.
  assert.ok(['CANCELLED', 'DEADLINE_EXCEEDED'].includes(ctx.signal.reason.code), ctx.signal.reason.code);
});

test('a call whose client never cancels is stopped by the server\'s deadline timer, with DEADLINE_EXCEEDED', async () => {
  const call = Object.assign(new EventEmitter(), { getDeadline: () => Date.now() + 50, getPeer: () => 'peer', metadata: new grpc.Metadata() });
  const context = new CallContext('s/M', call as never, new AbortController().signal, silent, {});
  const keepAlive = setTimeout(() => {}, 5000); // the deadline timer is unref'd: a server keeps the process up
  await once(context.signal, 'abort');
  clearTimeout(keepAlive);
  assert.equal(context.signal.reason.code, 'DEADLINE_EXCEEDED');
});

test('a shutdown tells running calls at once (context.shutdown), and cancels those still running at the end of its grace period', async (t) => {
  const { context, infer } = waitingHandler();
  const { server, client } = await inferenceServer(t, infer);
  const call = client.InferContract({ path: '/x' });
  call.catch(() => {});
  const ctx = await context;
  const stopping = server.shutdown(200);
  assert.equal(ctx.shutdown.aborted, true);
  assert.equal(ctx.signal.aborted, false, 'draining: the call may still finish');
  await stopping;
  assert.equal(ctx.signal.aborted, true);
  await assert.rejects(call);
});

test('log fields a handler adds reach its logger and the call\'s \'call failed\' line; a request\'s model and version are there from the start', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const out = new PassThrough();
  out.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l))));
  const log = pino({ level: 'info' }, out);
  const registry: Partial<RegistryImplementation> = {
    async UploadModel(requests, ctx) {
      for await (const r of requests) if (r.header) ctx.addLogFields({ model: r.header.model });
      ctx.logger.info('read the upload');
      throw invalidArgument('no files', 'UploadModelRequest.chunk');
    },
    async GetModelVersion(request, ctx) {
      ctx.logger.info('looking');
      throw invalidArgument('no such thing', 'GetModelVersionRequest.model');
    },
  };
  const server = await startServer([{ name: 'kiln.v1.Registry', definition: kilnProto().kiln.v1.Registry.service, implementation: registry as RegistryImplementation }], '127.0.0.1:0', log);
  const raw = registryClient(server.address);
  t.after(async () => {
    raw.close();
    await server.shutdown(1000);
  });
  const client = promiseClient(raw);
  await assert.rejects(client.UploadModel([{ header: { model: 'm1' } }, { chunk: Buffer.from('x') }]), /no files/);
  await assert.rejects(client.GetModelVersion({ model: 'm2', version: 4 }), /no such thing/);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const failed = lines.filter((l) => l.msg === 'call failed').map((l) => [l.rpc, l.model, l.version, l.code]);
  assert.deepEqual(failed, [
    ['kiln.v1.Registry/UploadModel', 'm1', undefined, 'INVALID_ARGUMENT'],
    ['kiln.v1.Registry/GetModelVersion', 'm2', 4, 'INVALID_ARGUMENT'],
  ]);
  assert.deepEqual(lines.filter((l) => l.msg !== 'call failed' && l.msg !== 'grpc server listening').map((l) => [l.msg, l.model, l.version]), [
    ['read the upload', 'm1', undefined],
    ['looking', 'm2', 4],
  ]);
});

test('a server stream\'s generator is returned when its client stops reading, and its finally blocks run', async (t) => {
  let finished!: () => void;
  const cleanedUp = new Promise<void>((resolve) => (finished = resolve));
  const registry: Partial<RegistryImplementation> = {
    async *WatchModelVersion(request) {
      try {
        for (let n = 1; ; n++) {
          yield { log: { line: `line ${n}`, number: n } };
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        finished();
      }
    },
  };
  const server = await startServer([{ name: 'kiln.v1.Registry', definition: kilnProto().kiln.v1.Registry.service, implementation: registry as RegistryImplementation }], '127.0.0.1:0', silent);
  const raw = registryClient(server.address);
  t.after(async () => {
    raw.close();
    await server.shutdown(1000);
  });
  const seen: string[] = [];
  for await (const event of promiseClient(raw).WatchModelVersion({ model: 'm', version: 1 })) {
    seen.push(event.log!.line);
    if (seen.length === 3) break; // cancels the call
  }
  assert.deepEqual(seen, ['line 1', 'line 2', 'line 3']);
  await cleanedUp;
});

test('an interceptor given to startServer runs after the built-in ones: it may name the caller, and what it throws reaches the client as a status', async (t) => {
  const named: Interceptor = (next) => (call) => {
    if (call.context.metadata.get('x-refuse').length) throw new KilnError('FAILED_PRECONDITION', 'refused by the interceptor');
    call.context.setCaller({ kind: 'anonymous', peer: 'named-by-interceptor' });
    return next(call);
  };
  const registration: ServiceRegistration = {
    name: 'kiln.v1.Inference',
    definition: kilnProto().kiln.v1.Inference.service,
    implementation: {
      InferContract: (_request, ctx) => ({ format: ctx.caller.peer, metadata: {} }),
      InferContractFromUpload: never,
    } satisfies InferenceImplementation,
  };
  const server = await startServer([registration], '127.0.0.1:0', silent, { interceptors: [named] });
  const raw = inferenceClient(server.address);
  t.after(async () => {
    raw.close();
    await server.shutdown(1000);
  });
  const client = promiseClient(raw);
  assert.equal((await client.InferContract({ path: '/x' })).format, 'named-by-interceptor');
  const refuse = new grpc.Metadata();
  refuse.set('x-refuse', '1');
  await assert.rejects(client.InferContract({ path: '/x' }, { metadata: refuse }),
    (err: grpc.ServiceError) => err.code === grpc.status.FAILED_PRECONDITION && /refused by the interceptor/.test(err.details));
});

test('interceptors\' checks of a client stream\'s messages run in the interceptors\' order: an earlier one sees a message a later one refuses', async (t) => {
  const seen: string[] = [];
  const watching: Interceptor = (next) => (call) => {
    call.onMessage((m) => seen.push(`watching saw ${(m as { header?: { model: string } }).header?.model}`));
    return next(call);
  };
  const refusing: Interceptor = (next) => (call) => {
    call.onMessage(() => {
      seen.push('refusing refused');
      throw new KilnError('PERMISSION_DENIED', 'refused by the second interceptor');
    });
    return next(call);
  };
  const registry: Partial<RegistryImplementation> = {
    async UploadModel(requests) {
      for await (const _ of requests) seen.push('handler read');
      return {} as never;
    },
  };
  const server = await startServer([{ name: 'kiln.v1.Registry', definition: kilnProto().kiln.v1.Registry.service, implementation: registry as RegistryImplementation }],
    '127.0.0.1:0', silent, { interceptors: [watching, refusing] });
  const raw = registryClient(server.address);
  t.after(async () => {
    raw.close();
    await server.shutdown(1000);
  });
  await assert.rejects(promiseClient(raw).UploadModel([{ header: { model: 'm1' } }]), /refused by the second interceptor/);
  assert.deepEqual(seen, ['watching saw m1', 'refusing refused']);
});
