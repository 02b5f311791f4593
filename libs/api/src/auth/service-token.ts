// The Kiln services' shared secret (KILN_SERVICE_TOKEN): a bearer token that names its caller a Kiln service. The
// place for a second service identity, the registry's mTLS client certificate, is beside it (see setup.ts).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { BearerVerifier, Caller } from '../context';

export function serviceTokenVerifier(secret: string): BearerVerifier {
  // Compared as digests: equal lengths for timingSafeEqual, and no timing that tells how much of a guess matched.
  const expected = createHash('sha256').update(secret).digest();
  return {
    async verify(token: string, peer: string): Promise<Caller | undefined> {
      const given = createHash('sha256').update(token).digest();
      return timingSafeEqual(given, expected) ? { kind: 'service', peer, service: 'kiln' } : undefined;
    },
  };
}
