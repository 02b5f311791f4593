// A layer whose digest is known only once its bytes have been streamed (hashed on the way), so that a layer can be
// pushed without being read once before to learn the digest its manifest needs.
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { KilnError } from '@kiln/errors';
import type { LayerDigests } from './model-layers';
import { MediaType, type Layer } from './types';

export interface StreamLayerOptions {
  /** Default: uncompressed tar, whose digest is then also its diffID. */
  mediaType?: string;
  /** The stream's length when known beforehand: a stream of any other length fails (and a push may declare it). */
  size?: number;
}

export interface StreamLayer {
  readonly mediaType: string;
  /** The length given beforehand, if any. */
  readonly expectedSize?: number;
  /** Whether a stream of it has been read to its end, so that its digests are known. */
  readonly computed: boolean;
  /**
   * Streams the bytes, hashing them: once a stream ends, digests() is known. Every stream is checked: against the
   * expected size while it flows, and, once the digests are known, against them at its end.
   */
  open(): Readable;
  /** digest, size and diffID; FAILED_PRECONDITION before a stream of the layer has ended. */
  digests(): Required<Pick<LayerDigests, 'digest' | 'size' | 'diffID'>>;
  /** The layer as an ordinary Layer once computed (FAILED_PRECONDITION before): it streams the bytes again. */
  toLayer(): Layer;
}

/** A stream layer of the bytes `open` streams (a fresh stream on every call). */
export function streamLayer(open: () => Readable, options: StreamLayerOptions = {}): StreamLayer {
  const mediaType = options.mediaType ?? MediaType.OCI_LAYER;
  // Uncompressed tar only: its digest is its diffID. A compressed one would need a second hash, of the content.
  if (mediaType !== MediaType.OCI_LAYER) {
    throw new KilnError('INVALID_ARGUMENT', `stream layers are uncompressed tar (${MediaType.OCI_LAYER}), not ${mediaType}`, 'mediaType');
  }
  const expectedSize = options.size;
  if (expectedSize !== undefined && !(Number.isSafeInteger(expectedSize) && expectedSize >= 0)) {
    throw new KilnError('INVALID_ARGUMENT', `bad layer size ${expectedSize}`, 'size');
  }
  let known: { digest: string; size: number } | undefined;

  const layer: StreamLayer = {
    mediaType,
    expectedSize,
    get computed() {
      return known !== undefined;
    },
    open() {
      const source = open();
      const hashed = hashingStream(expectedSize, known, (result) => {
        known ??= result;
      });
      source.on('error', (err) => hashed.destroy(err));
      hashed.on('close', () => source.destroy());
      return source.pipe(hashed);
    },
    digests() {
      if (!known) throw new KilnError('FAILED_PRECONDITION', 'a stream layer\'s digest is known only once its bytes have been streamed', 'stream layer');
      return { digest: known.digest, size: known.size, diffID: known.digest };
    },
    toLayer() {
      const { digest, size, diffID } = layer.digests();
      return { mediaType, digest, size, diffID, open: () => layer.open() };
    },
  };
  return layer;
}

/** A pass-through hashing what flows: fails as soon as the bytes run past `expected`, or end short of it or of `known`. */
function hashingStream(expected: number | undefined, known: { digest: string; size: number } | undefined, done: (r: { digest: string; size: number }) => void): Transform {
  const hash = createHash('sha256');
  let size = 0;
  // A body that disagreed with a declared Content-Length would leave a registry waiting or cut it short: fail instead.
  const wrongLength = () => new KilnError('INTERNAL', `layer stream has ${size} bytes, declared ${expected}`, 'stream layer');
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(expected !== undefined && size > expected ? wrongLength() : null, chunk);
    },
    flush(cb) {
      if (expected !== undefined && size !== expected) return cb(wrongLength());
      const result = { digest: `sha256:${hash.digest('hex')}`, size };
      if (known && (known.digest !== result.digest || known.size !== result.size)) {
        return cb(new KilnError('FAILED_PRECONDITION', `layer bytes changed: ${result.digest} (${result.size} bytes), streamed before as ${known.digest}`, 'stream layer'));
      }
      done(result);
      cb();
    },
  });
}
