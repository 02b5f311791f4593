// sha256 digests of buffers and streams, and the canonical JSON used for configs and manifests.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { invalidArgument } from '@kiln/errors';

export const sha256Digest = (data: Buffer | string): string =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function assertDigest(digest: string, location?: string): string {
  if (!DIGEST_RE.test(digest)) throw invalidArgument(`not a sha256 digest: ${JSON.stringify(digest)}`, location);
  return digest;
}

/** Hex part of a sha256:<hex> digest. */
export const digestHex = (digest: string): string => assertDigest(digest).slice('sha256:'.length);

/** Streams once through sha256, counting bytes. */
export async function digestStream(stream: Readable): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/** JSON with object keys sorted, so equal values always serialize to equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}
