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

/** A token's verification: its promise (concurrent first calls share it), the caller once it settled, and when. */
interface Verification {
  pending: Promise<Caller | undefined>;
  caller?: Caller;
  at: number;
  refreshing?: boolean;
}

export function authentication(verifiers: readonly BearerVerifier[], options: AuthenticationOptions = {}): Authenticator {
  const ttl = options.cacheMs ?? CACHE_MS;
  // A failure, or a token no verifier knows, is never kept (random tokens cannot fill the cache). An entry older than
  // the ttl is verified again in the background while calls go on with it, for one more ttl at most: a busy token's
  // calls never all wait on its re-check, and a revocation still takes effect within two ttls plus one lookup.
  const verified = new LRUCache<string, Verification>({ max: options.cacheEntries ?? 10_000, ttl: ttl * 2 });

  async function verify(token: string, peer: string): Promise<Caller | undefined> {
    for (const verifier of verifiers) {
      const caller = await verifier.verify(token, peer);
      if (caller) return caller;
    }
    return undefined;
  }

  /** Starts verifying `token`, the result replacing its entry (or removing it on failure). */
  function start(token: string, peer: string): Verification {
    const entry: Verification = { pending: verify(token, peer), at: Date.now() };
    const forget = () => verified.get(token) === entry && verified.delete(token);
    entry.pending.then((caller) => {
      if (caller) entry.caller = caller;
      else forget();
    }, forget);
    return entry;
  }

  function lookup(token: string, peer: string): Promise<Caller | undefined> | Caller {
    const entry = verified.get(token);
    if (!entry) {
      const fresh = start(token, peer);
      verified.set(token, fresh);
      return fresh.pending;
    }
    if (!entry.caller || Date.now() - entry.at < ttl) return entry.caller ?? entry.pending;
    if (!entry.refreshing) {
      entry.refreshing = true;
      const next = start(token, peer);
      // The old entry serves until the re-check settles; a refused token is then gone for every call.
      next.pending.then((caller) => {
        if (!caller) return;
        if (verified.get(token) === entry) verified.set(token, next);
      }, () => {}).finally(() => verified.get(token) === entry && !next.caller && verified.delete(token));
    }
    return entry.caller;
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
    const caller = await lookup(token, peer);
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
