// Test helper: a tiny Docker token server (the registry's `auth: token` realm) that signs RS256/ES256 JWTs with a
// key whose certificate (sent as the x5c chain) is in the registry's rootcertbundle, as Distribution 2.8 checks.
import { createPrivateKey, randomUUID, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenServerOptions {
  /** The realm URL the registry sends clients to; the server listens on its host, port and path. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM text or a path to a PEM file: the signing key (RSA or EC P-256/P-384). */
  key: string;
  /** PEM text or a path: the signing certificate, optionally followed by intermediates. */
  cert: string;
  /** When set, token requests must carry Basic credentials from this map; otherwise anyone gets a token. */
  users?: Record<string, string>;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
  /** How long to wait for the realm's port while another test run holds it (default 60 s). */
  waitForPortMs?: number;
}

export interface TokenRequest {
  user?: string;
  service?: string;
  scopes: string[];
  status: number;
}

export interface TokenServer {
  url: string;
  /** Every token request, in order. */
  requests: TokenRequest[];
  close(): Promise<void>;
}

const pem = (value: string): string => (value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8'));

function algorithmFor(key: KeyObject): { alg: string; hash: string; dsaEncoding?: 'ieee-p1363' } {
  if (key.asymmetricKeyType === 'rsa') return { alg: 'RS256', hash: 'sha256' };
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') return { alg: 'ES256', hash: 'sha256', dsaEncoding: 'ieee-p1363' };
    if (curve === 'secp384r1' || curve === 'P-384') return { alg: 'ES384', hash: 'sha384', dsaEncoding: 'ieee-p1363' };
    throw new Error(`unsupported EC curve ${curve}`);
  }
  throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** `repository:models/iris:pull,push` -> { type, name, actions }. Names may hold ':' (never in practice). */
function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

export function signToken(options: TokenServerOptions, subject: string, scopes: string[]): string {
  const key = createPrivateKey(pem(options.key));
  const { alg, hash, dsaEncoding } = algorithmFor(key);
  const chain = pem(options.cert)
    .split(/(?=-----BEGIN CERTIFICATE-----)/)
    .filter((block) => block.includes('BEGIN CERTIFICATE'))
    .map((block) => new X509Certificate(block).raw.toString('base64'));
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg, x5c: chain };
  const claims = {
    iss: options.issuer,
    sub: subject,
    aud: options.service,
    exp: now + (options.expiresIn ?? 300),
    nbf: now - 10,
    iat: now,
    jti: randomUUID(),
    access: scopes.map(parseScope).filter((s) => s !== undefined),
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign(hash, Buffer.from(input), dsaEncoding ? { key, dsaEncoding } : key);
  return `${input}.${b64url(signature)}`;
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const realm = new URL(options.realm);
  const requests: TokenRequest[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', realm);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    let user: string | undefined;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const [name, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
      if (options.users && options.users[name] !== password) {
        requests.push({ user: name, service: url.searchParams.get('service') ?? undefined, scopes, status: 401 });
        return reply(401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
      }
      user = name;
    } else if (options.users) {
      requests.push({ service: url.searchParams.get('service') ?? undefined, scopes, status: 401 });
      res.setHeader('www-authenticate', 'Basic realm="kiln-test-token"');
      return reply(401, { errors: [{ code: 'UNAUTHORIZED', message: 'credentials required' }] });
    }
    if (url.pathname !== realm.pathname || url.searchParams.get('service') !== options.service) {
      requests.push({ user, service: url.searchParams.get('service') ?? undefined, scopes, status: 400 });
      return reply(400, { errors: [{ code: 'DENIED', message: 'unknown path or service' }] });
    }
    requests.push({ user, service: options.service, scopes, status: 200 });
    const token = signToken(options, user ?? '', scopes);
    reply(200, { token, access_token: token, expires_in: options.expiresIn ?? 300, issued_at: new Date().toISOString() });
  });
  // The realm's port is fixed by the registry's config, so two test runs sharing one test-env take turns on it.
  const deadline = Date.now() + (options.waitForPortMs ?? 60_000);
  for (;;) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(realm.port || 80), realm.hostname, () => {
          server.off('error', reject);
          resolve();
        });
      });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `${realm.protocol}//${realm.hostname}:${port}${realm.pathname}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
