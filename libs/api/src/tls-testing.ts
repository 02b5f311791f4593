// Test helper: real certificates made with openssl (a CA, and leaf certificates it signs) in a folder, and the one a
// server presents.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connect } from 'node:tls';

export interface PemPair {
  cert: string;
  key: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** A self-signed CA: `<dir>/<name>.crt` and `.key`. */
export function makeCa(dir: string, name: string): PemPair {
  const pair = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  openssl(['req', '-x509', ...EC_KEY, '-keyout', pair.key, '-out', pair.cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return pair;
}

/** A certificate signed by `ca` for server and client use, with subject CN `cn` and the given subjectAltNames
 * (default: localhost and 127.0.0.1, where tests listen). */
export function makeCert(dir: string, ca: PemPair, name: string, cn: string, altNames = ['DNS:localhost', 'IP:127.0.0.1']): PemPair {
  const pair = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  writeFileSync(ext, `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${altNames.join(',')}\n`);
  openssl(['req', ...EC_KEY, '-keyout', pair.key, '-out', csr, '-subj', `/CN=${cn}`]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${randomBytes(8).toString('hex')}`,
    '-days', '2', '-extfile', ext, '-out', pair.cert]);
  return pair;
}

/** The subject CN of the certificate a server at host:port presents in a fresh TLS handshake (HTTP/2, as gRPC). */
export function presentedCommonName(address: string, ca: string): Promise<string> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const options = { host: address.slice(0, i), port: Number(address.slice(i + 1)), servername: 'localhost', ALPNProtocols: ['h2'], ca: [readFileSync(ca)] };
    const socket = connect(options, () => {
      const cn = socket.getPeerCertificate().subject.CN as string;
      socket.destroy();
      resolve(cn);
    });
    socket.on('error', reject);
  });
}
