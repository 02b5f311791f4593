// Says who makes each call from its bearer token: the verifiers (Kiln API tokens, OIDC, the service token) are asked
// in turn, and the first that knows the token names the caller. A call with no token may still be a Kiln service's,
// by its verified mTLS client certificate. No token, a malformed one, or one no verifier accepts is UNAUTHENTICATED
// with the reason. grpc.health.v1 is served outside the chain, so it stays open.
import type * as grpc from '@grpc/grpc-js';
import { LRUCache } from 'lru-cache';
import { unauthenticated } from '@kiln/errors';
import type { BearerVerifier, Caller } from '../context';
import type { PeerCertificate } from '../tls';
import { bearerToken } from '../auth/bearer';
import type { Interceptor } from './interceptor';

export interface Authenticator {
  /** The caller a call's metadata names; UNAUTHENTICATED saying why when it names none. */
  authenticate(metadata: grpc.Metadata, peer: string, certificate?: PeerCertificate): Promise<Caller>;
  readonly interceptor: Interceptor;
}

export interface AuthenticationOptions {
  /** How long a verified token is trusted without asking its verifier again: revocation and expiry take effect
   * within this on every replica, with no cross-replica messages. */
  cacheMs?: number;
  cacheEntries?: number;
  /** A call with no token, or one no verifier knows, goes on as anonymous (for authorization to refuse): on
   * servers only Kiln services may call, where any other caller is PERMISSION_DENIED. */
  unknownIsAnonymous?: boolean;
  /** The caller a verified client certificate names when the call has no token (a Kiln service's certificate). */
  certificateCaller?: (certificate: PeerCertificate, peer: string) => Caller | undefined;
}

/** Under a second, as revocation must be; a hot token then costs its verifier (a hash, a lookup) twice a second. */
const CACHE_MS = 500;

export function authentication(verifiers: readonly BearerVerifier[], options: AuthenticationOptions = {}): Authenticator {
  const ttl = options.cacheMs ?? CACHE_MS;
  // The promise is kept, so that concurrent calls with one new token verify it once; a failure, or a token no
  // verifier knows, is never kept (random tokens cannot fill the cache).
  const verified = new LRUCache<string, Promise<Caller | undefined>>({ max: options.cacheEntries ?? 10_000, ttl });

  async function verify(token: string, peer: string): Promise<Caller | undefined> {
    for (const verifier of verifiers) {
      const caller = await verifier.verify(token, peer);
      if (caller) return caller;
    }
    return undefined;
  }

  function unknown(peer: string, why: string): Caller {
    if (options.unknownIsAnonymous) return { kind: 'anonymous', peer };
    throw unauthenticated(why);
  }

  async function authenticate(metadata: grpc.Metadata, peer: string, certificate?: PeerCertificate): Promise<Caller> {
    const token = bearerToken(metadata);
    if (token === undefined) {
      const byCertificate = certificate && options.certificateCaller?.(certificate, peer);
      return byCertificate || unknown(peer, 'missing token: send "authorization: Bearer <token>"');
    }
    let pending = verified.get(token);
    if (!pending) {
      const verifying = verify(token, peer);
      const forget = () => verified.get(token) === verifying && verified.delete(token);
      verifying.then((caller) => caller || forget(), forget);
      verified.set(token, (pending = verifying));
    }
    const caller = await pending;
    if (!caller) return unknown(peer, 'unknown token: no Kiln API token, OIDC token or service token matches it');
    return caller.peer === peer ? caller : { ...caller, peer };
  }

  return {
    authenticate,
    interceptor: (next) => async (call) => {
      call.context.setCaller(await authenticate(call.context.metadata, call.context.caller.peer, call.context.peerCertificate));
      return next(call);
    },
  };
}
