// Uploading a stream layer to a repository: the bytes are hashed as they go out and the digest is given at commit,
// so a layer is read once to be pushed, not twice.
//
// The bytes go in one streamed PATCH (the Distribution API's "stream upload") when the request can carry its
// authorization up front (no auth, or basic): about three times as fast as 32 MiB chunks, each of which the registry
// persists hash state for (bench/README.md, "Measurements behind code choices"). With bearer tokens, which a 401 may ask to
// renew mid-way, the upload is chunked through the transport (each chunk can be sent again).
import { chunks } from '../chunks';
import type { StreamLayer } from '../stream-layer';
import { DistributionRepository } from './distribution';
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
  repository: string | DistributionRepository,
  layer: StreamLayer,
  options: StreamUploadOptions,
): Promise<{ digest: string; size: number; diffID: string }> {
  const repo = typeof repository === 'string' ? new DistributionRepository(transport, repository, 'pull,push') : repository;
  const what = 'streamed layer';
  const authorization = options.streamAuthorization !== undefined ? options.streamAuthorization : await transport.streamAuthorization();
  let url = await repo.startUpload(what);
  const stream = layer.open();
  try {
    if (authorization !== null) {
      url = await repo.appendStream(url, stream, authorization, layer.expectedSize, what);
    } else {
      let offset = 0;
      for await (const chunk of chunks(stream, options.chunkSize)) {
        url = await repo.appendChunk(url, chunk, offset, what);
        offset += chunk.length;
      }
    }
    const digests = layer.digests();
    await repo.commitUpload(url, digests.digest);
    return digests;
  } catch (err) {
    // An abandoned upload would wait for the registry's purge; say we are done with it.
    await repo.cancelUpload(url, what);
    throw err;
  } finally {
    stream.destroy();
  }
}
