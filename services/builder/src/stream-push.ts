// Pushing a layer to a registry while hashing it: a large file whose layer digest is not cached yet is read once
// (hashed as its chunks go out, the digest given at commit) instead of twice (once to learn the digest for the
// manifest, once to push). The digest then goes to the layer cache, where building the image finds it.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { KilnError } from '@kiln/errors';
import type { LayerDigests, RegistryTransport } from '@kiln/oci';

export async function pushWhileHashing(
  transport: RegistryTransport,
  repository: string,
  open: () => Readable,
  chunkSize: number,
): Promise<LayerDigests> {
  const scopes = [`repository:${repository}:pull,push`];
  const location = `${transport.registry}/${repository} streamed layer`;
  const next = (res: Response): string => {
    const loc = res.headers.get('location');
    if (!loc) throw new KilnError('FAILED_PRECONDITION', 'upload response has no Location', location);
    return new URL(loc, transport.baseUrl).toString();
  };
  const started = await transport.request('POST', `/v2/${repository}/blobs/uploads/`, { scopes, ok: [202], location });
  await started.body?.cancel();
  let url = next(started);
  const stream = open();
  const hash = createHash('sha256');
  let offset = 0;
  try {
    for await (const chunk of chunks(stream, chunkSize)) {
      hash.update(chunk);
      const res = await transport.request('PATCH', url, {
        body: chunk,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` },
        scopes,
        ok: [202],
        location,
      });
      await res.body?.cancel();
      offset += chunk.length;
      url = next(res);
    }
    const digest = `sha256:${hash.digest('hex')}`;
    const commit = new URL(url);
    commit.searchParams.set('digest', digest);
    const res = await transport.request('PUT', commit.toString(), { scopes, ok: [201], location: `${transport.registry}/${repository} ${digest}` });
    await res.body?.cancel();
    return { digest, size: offset, diffID: digest };
  } catch (err) {
    // An abandoned upload would wait for the registry's purge; say we are done with it.
    await transport.request('DELETE', url, { scopes, ok: [204, 404], location }).then((r) => r.body?.cancel(), () => {});
    throw err;
  } finally {
    stream.destroy();
  }
}

/** Regroups a stream into chunks of `size` bytes (the last one shorter), holding one chunk at a time. */
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
