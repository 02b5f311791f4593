// The two ways a caller is a Kiln service: the services' shared secret (KILN_SERVICE_TOKEN) as its bearer token, or,
// with mTLS, a verified client certificate that names one of the services' own (KILN_TLS_SERVICE_NAMES).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { BearerVerifier, Caller } from '../context';
import type { PeerCertificate } from '../tls';

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

/**
 * A Kiln service's caller for a certificate whose common name or a DNS/URI subjectAltName is one of `names` (the
 * certificate has already passed verification against KILN_TLS_CLIENT_CA); undefined for any other.
 */
export function serviceCertificateCaller(names: readonly string[]): (certificate: PeerCertificate, peer: string) => Caller | undefined {
  const known = new Set(names);
  return (certificate, peer) => {
    const name = [certificate.commonName, ...certificate.dnsNames, ...certificate.uris].find((n) => n && known.has(n));
    return name ? { kind: 'service', peer, service: name } : undefined;
  };
}
