// Uploading a stream layer to a repository (Distribution's blob upload: POST, PATCH, PUT ?digest): the bytes are
// hashed as they go out and the digest is given at commit, so a layer is read once to be pushed, not twice.
//
// The bytes go in one streamed PATCH (the Distribution API's "stream upload") when the request can carry its
// authorization up front (no auth, or basic): against the test registry a GiB goes in ~3 s that way, against ~9 s
// in 32 MiB chunks, each of which the registry persists hash state for. With bearer tokens, which a 401 may ask to
// renew mid-way, the upload is chunked through the transport (each chunk can be sent again).
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KilnError } from '@kiln/errors';
import { chunks } from '../chunks';
import type { StreamLayer } from '../stream-layer';
import type { RegistryTransport } from './transport';

export interface StreamUploadOptions {
  /** Bytes per PATCH when the upload is chunked. */
  chunkSize: number;
  /**
   * The Authorization header of a streamed PATCH: '' for none, null to chunk the upload through the transport.
   * Default: what the transport learned from the registry (RegistryTransport.streamAuthorization).
   */
  streamAuthorization?: string | null;
}

/** Uploads the layer's bytes to `repository`, hashing them on the way; the layer is computed when this resolves. */
export async function uploadStreamLayer(
  transport: RegistryTransport,
  repository: string,
  layer: StreamLayer,
  options: StreamUploadOptions,
): Promise<{ digest: string; size: number; diffID: string }> {
  const scopes = [`repository:${repository}:pull,push`];
  const location = `${transport.registry}/${repository} streamed layer`;
  const nextLocation = (loc: string | null | undefined): string => {
    if (!loc) throw new KilnError('FAILED_PRECONDITION', 'upload response has no Location', location);
    return new URL(loc, transport.baseUrl).toString();
  };
  const authorization = options.streamAuthorization !== undefined ? options.streamAuthorization : await transport.streamAuthorization();
  const started = await transport.request('POST', `/v2/${repository}/blobs/uploads/`, { scopes, ok: [202], location });
  await started.body?.cancel();
  let url = nextLocation(started.headers.get('location'));
  const stream = layer.open();
  try {
    if (authorization !== null) {
      const res = await streamedPatch(url, stream, authorization, layer.expectedSize, location);
      if (res.status !== 202) {
        throw new KilnError(res.status >= 500 ? 'UNAVAILABLE' : 'FAILED_PRECONDITION', `streamed PATCH returned ${res.status}: ${res.body.slice(0, 200)}`, location);
      }
      url = nextLocation(res.headers.location);
    } else {
      let offset = 0;
      for await (const chunk of chunks(stream, options.chunkSize)) {
        const res = await transport.request('PATCH', url, {
          body: chunk,
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` },
          scopes,
          ok: [202],
          location,
        });
        await res.body?.cancel();
        offset += chunk.length;
        url = nextLocation(res.headers.get('location'));
      }
    }
    const digests = layer.digests();
    const commit = new URL(url);
    commit.searchParams.set('digest', digests.digest);
    const res = await transport.request('PUT', commit.toString(), { scopes, ok: [201], location: `${transport.registry}/${repository} ${digests.digest}` });
    await res.body?.cancel();
    return digests;
  } catch (err) {
    // An abandoned upload would wait for the registry's purge; say we are done with it.
    await transport.request('DELETE', url, { scopes, ok: [204, 404], location }).then((r) => r.body?.cancel(), () => {});
    throw err;
  } finally {
    stream.destroy();
  }
}

/**
 * One PATCH whose body is the whole stream; back-pressure from the socket reaches the source. Sent with
 * node:http(s) rather than fetch: piping a Node stream into a request skips the web-stream conversion (about half
 * the builder's CPU per byte here). With the length known the body goes with Content-Length; a Distribution
 * registry spends ~35% less CPU on it than on a chunked body (2.8 against 4.4 CPU s per GiB).
 */
async function streamedPatch(
  url: string,
  stream: Readable,
  authorization: string,
  length: number | undefined,
  location: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const target = new URL(url);
  const request = (target.protocol === 'https:' ? https : http).request(target, {
    method: 'PATCH',
    headers: {
      'content-type': 'application/octet-stream',
      ...(length !== undefined ? { 'content-length': String(length) } : {}),
      ...(authorization ? { authorization } : {}),
    },
  });
  let early: http.IncomingMessage | undefined;
  let connectionError: Error | undefined;
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    request.once('response', (res: http.IncomingMessage) => {
      early = res;
      resolve(res);
    });
    request.once('error', (err) => {
      connectionError = err;
      reject(err);
    });
  });
  response.catch(() => {}); // read below, after the body is sent (or has failed)
  let res: http.IncomingMessage;
  try {
    await pipeline(stream, request);
    res = await response;
  } catch (err) {
    // A registry that answered before taking the whole body (401, 413, ...) says more than the broken pipe that
    // follows (its answer may still be on its way: a moment's grace); the source's own failure (a blob store error,
    // a cancelled build, a wrong length) is thrown as it is.
    if (!early && err === connectionError) await new Promise((resolve) => setTimeout(resolve, 200));
    request.destroy();
    if (early) res = early;
    else if (err === connectionError) {
      throw new KilnError('UNAVAILABLE', `cannot reach registry: ${(err as Error).message}`, location, { cause: err });
    } else throw err;
  }
  let body = '';
  try {
    for await (const chunk of res) if (body.length < 4096) body += String(chunk);
  } catch {
    // The connection went with the rest of the body: the status says enough.
  }
  return { status: res.statusCode ?? 0, headers: res.headers, body };
}
