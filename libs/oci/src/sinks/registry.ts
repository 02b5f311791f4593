// Sink: a registry through the Distribution API v2. HEAD before push, cross-repository mounts, chunked uploads
// streamed from the layer, manifest PUT by tag.
import type { Readable } from 'node:stream';
import { KilnError } from '@kiln/errors';
import { checkRepository, checkTag } from '../registry/reference';
import { RegistryTransport, type RegistryOptions } from '../registry/transport';
import type { Blob, Image, ImageSink, WriteResult } from '../types';

export interface RegistrySinkOptions extends RegistryOptions {
  repository: string;
  /** Other repositories of the same registry that may hold our blobs (earlier versions): tried as mount sources. */
  mountFrom?: string[];
  /** Blobs up to this size go in one PUT; bigger ones in PATCH chunks of chunkSize. Default 8 MiB each. */
  monolithicMaxSize?: number;
  chunkSize?: number;
  /** Blobs pushed at once. Default 3. */
  concurrency?: number;
  /** Reuse a transport (and its tokens) across sinks of the same registry. */
  transport?: RegistryTransport;
}

const MiB = 1024 * 1024;

export function registrySink(options: RegistrySinkOptions): ImageSink & { transport: RegistryTransport } {
  const transport = options.transport ?? new RegistryTransport(options);
  const repository = checkRepository(options.repository);
  const monolithicMaxSize = options.monolithicMaxSize ?? 8 * MiB;
  const chunkSize = options.chunkSize ?? 8 * MiB;
  const push = `repository:${repository}:pull,push`;
  const where = (what: string) => `${transport.registry}/${repository} ${what}`;

  async function exists(blob: Blob): Promise<boolean> {
    const res = await transport.request('HEAD', `/v2/${repository}/blobs/${blob.digest}`, {
      scopes: [push],
      ok: [200, 404],
      location: where(blob.digest),
    });
    return res.status === 200;
  }

  /** Mounts the blob from another repository; returns true when mounted, or an upload URL to use instead. */
  async function mountOrStart(blob: Blob): Promise<true | string> {
    const candidates = [
      ...(blob.origin && blob.origin.registry === transport.registry ? [blob.origin.repository] : []),
      ...(options.mountFrom ?? []),
    ].filter((r, i, all) => r !== repository && all.indexOf(r) === i);
    for (const from of candidates) {
      const res = await transport.request(
        'POST',
        `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}`,
        { scopes: [push, `repository:${from}:pull`], ok: [201, 202], location: where(blob.digest) },
      );
      await res.body?.cancel();
      if (res.status === 201) return true;
      // 202: not mountable from there; the registry opened an upload. Close it by trying the next candidate, or use it.
      if (candidates.at(-1) === from) return location(res, blob);
      await transport.request('DELETE', location(res, blob), { scopes: [push], ok: [204, 404], location: where(blob.digest) }).catch(() => {});
    }
    const res = await transport.request('POST', `/v2/${repository}/blobs/uploads/`, { scopes: [push], ok: [202], location: where(blob.digest) });
    await res.body?.cancel();
    return location(res, blob);
  }

  function location(res: Response, blob: Blob): string {
    const loc = res.headers.get('location');
    if (!loc) throw new KilnError('FAILED_PRECONDITION', 'upload response has no Location', where(blob.digest));
    return new URL(loc, transport.baseUrl).toString();
  }

  function withDigest(url: string, digest: string): string {
    const u = new URL(url);
    u.searchParams.set('digest', digest);
    return u.toString();
  }

  /** Uploads the blob; `session.url` always holds the upload's latest Location (needed to cancel it). */
  async function upload(blob: Blob, session: { url: string }): Promise<void> {
    const stream = blob.open();
    try {
      if (blob.size <= monolithicMaxSize) {
        const body = await readAll(stream, blob.size);
        const res = await transport.request('PUT', withDigest(session.url, blob.digest), {
          body,
          headers: { 'content-type': 'application/octet-stream' },
          scopes: [push],
          ok: [201],
          location: where(blob.digest),
        });
        await res.body?.cancel();
        return;
      }
      let offset = 0;
      for await (const chunk of chunks(stream, chunkSize)) {
        const res = await transport.request('PATCH', session.url, {
          body: chunk,
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${offset}-${offset + chunk.length - 1}`,
          },
          scopes: [push],
          ok: [202],
          location: where(blob.digest),
        });
        await res.body?.cancel();
        offset += chunk.length;
        session.url = location(res, blob);
      }
      if (offset !== blob.size) {
        throw new KilnError('FAILED_PRECONDITION', `blob streamed ${offset} bytes, expected ${blob.size}`, where(blob.digest));
      }
      const res = await transport.request('PUT', withDigest(session.url, blob.digest), { scopes: [push], ok: [201], location: where(blob.digest) });
      await res.body?.cancel();
    } finally {
      stream.destroy();
    }
  }

  return {
    transport,
    async write(image: Image, tag: string): Promise<WriteResult> {
      checkTag(tag);
      const result: WriteResult = { digest: image.digest, uploaded: [], existing: [], mounted: [] };
      const unique = new Map<string, Blob>();
      for (const blob of [...image.layers, image.configBlob]) unique.set(blob.digest, blob);

      await forEachLimit([...unique.values()], options.concurrency ?? 3, async (blob) => {
        if (await exists(blob)) return void result.existing.push(blob.digest);
        const mounted = await mountOrStart(blob);
        if (mounted === true) return void result.mounted.push(blob.digest);
        const session = { url: mounted };
        try {
          await upload(blob, session);
        } catch (err) {
          // Cancel the upload session so a failed push leaves nothing behind in the registry.
          await transport.request('DELETE', session.url, { scopes: [push], ok: [204, 404], location: where(blob.digest) }).catch(() => {});
          throw err;
        }
        result.uploaded.push(blob.digest);
      });

      const res = await transport.request('PUT', `/v2/${repository}/manifests/${tag}`, {
        body: image.rawManifest,
        headers: { 'content-type': image.mediaType },
        scopes: [push],
        ok: [201],
        location: where(`manifest ${tag}`),
      });
      await res.body?.cancel();
      const returned = res.headers.get('docker-content-digest');
      if (returned && returned !== image.digest) {
        throw new KilnError('INTERNAL', `registry stored manifest as ${returned}, expected ${image.digest}`, where(tag));
      }
      return result;
    },
  };
}

async function readAll(stream: Readable, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    parts.push(c as Buffer);
    n += (c as Buffer).length;
    if (n > size) break;
  }
  return Buffer.concat(parts);
}

/** Regroups a stream into chunks of exactly `size` bytes (the last one shorter); only one chunk is held at a time. */
export async function* chunks(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    let buf = c as Buffer;
    while (buf.length) {
      const take = Math.min(size - n, buf.length);
      parts.push(buf.subarray(0, take));
      n += take;
      buf = buf.subarray(take);
      if (n === size) {
        yield Buffer.concat(parts);
        parts = [];
        n = 0;
      }
    }
  }
  if (n) yield Buffer.concat(parts);
}

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
}
