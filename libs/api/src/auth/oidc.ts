// Bearer JWTs from an identity provider (OIDC): verified with jose against the provider's JWKS (issuer, audience,
// expiry, signature), their claims mapped to role bindings by KILN_OIDC_ROLES, and kept once verified until shortly
// before they expire, so that a client's calls after its first cost a lookup.
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import { KilnError, unavailableReason } from '@kiln/errors';
import type { BearerVerifier, Caller, RoleBinding } from '../context';
import { bindingsFor, parseClaimRoles, type ClaimRoleRule } from './claim-roles';

/** What the configuration says (libs/config's `oidc`): the provider, and the claim mapping as written. */
export interface OidcSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  readonly roles: string;
}

export interface OidcOptions {
  /** After a JWKS fetch, how long a token with an unknown `kid` is refused without fetching again. */
  readonly jwksCooldownMs?: number;
  /** How many verified tokens are kept (least recently used go first). */
  readonly maxCachedTokens?: number;
}

/** Seconds a token's exp, nbf and iat may be off: clocks of the provider and of Kiln's hosts drift a little. */
export const CLOCK_TOLERANCE_SECONDS = 30;
/**
 * jose's default, kept: for this long after a fetch, a token with an unknown `kid` is refused without fetching the
 * JWKS again; after it, such a token fetches once (concurrent ones share the fetch). Anyone may send a made-up
 * `kid`: this bounds what they make Kiln ask of the provider to one fetch per 30 s. Providers publish a new key
 * before they sign with it, and jose fetches a JWKS over 10 min old (its cacheMaxAge) anyway, so a rotation is
 * normally seen before its first token.
 */
export const JWKS_COOLDOWN_MS = 30_000;
/** A verified token is kept until this long before its exp (so a kept answer never outlives it), and at most as
 * long as jose keeps the JWKS (10 min): a key the provider withdraws is accepted no more within 20 min. */
const EXPIRY_MARGIN_MS = 1000;
const MAX_CACHE_MS = 10 * 60_000;
const MAX_CACHED_TOKENS = 10_000;

/** Who a verified token says the caller is (the peer differs from call to call). */
interface Identity {
  readonly issuer: string;
  readonly subject: string;
  readonly bindings: readonly RoleBinding[];
}

/** The verifier for the configured provider, or undefined when OIDC is not configured. Throws on a bad claim
 * mapping, for start-up to stop on. */
export function oidcVerifier(settings: OidcSettings | undefined, options: OidcOptions = {}): BearerVerifier | undefined {
  return settings && new OidcVerifier(settings, parseClaimRoles(settings.roles), options);
}

export class OidcVerifier implements BearerVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly verified: LRUCache<string, Identity>;

  constructor(private readonly settings: OidcSettings, private readonly rules: readonly ClaimRoleRule[], options: OidcOptions = {}) {
    this.jwks = createRemoteJWKSet(new URL(settings.jwksUrl), { cooldownDuration: options.jwksCooldownMs ?? JWKS_COOLDOWN_MS });
    this.verified = new LRUCache({ max: options.maxCachedTokens ?? MAX_CACHED_TOKENS });
  }

  async verify(token: string, peer: string): Promise<Caller | undefined> {
    const known = this.verified.get(token);
    if (known) return { kind: 'oidc', peer, ...known };
    // Only a JWT is ours to judge; anything else (a Kiln API token) is another verifier's.
    if (!isJwt(token)) return undefined;
    const payload = await this.check(token);
    const identity: Identity = { issuer: this.settings.issuer, subject: payload.sub, bindings: bindingsFor(payload, this.rules) };
    const ttl = Math.min(payload.exp * 1000 - EXPIRY_MARGIN_MS - Date.now(), MAX_CACHE_MS);
    if (ttl > 0) this.verified.set(token, identity, { ttl });
    return { kind: 'oidc', peer, ...identity };
  }

  /** The token's claims once its signature, issuer, audience and times hold; UNAUTHENTICATED saying why not. */
  private async check(token: string): Promise<JWTPayload & { sub: string; exp: number }> {
    const { issuer, audience, jwksUrl } = this.settings;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer,
        audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        // A token without an expiry would be good for ever; one without a subject names nobody.
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      const why = refusal(err, this.settings);
      if (why) throw unauthenticated(`the OIDC token is refused: ${why}`, err);
      // Not the token's fault: the provider's keys could not be had (down, timing out, not a JWKS).
      const reason = unavailableReason(err) ?? describe(err);
      throw new KilnError('UNAVAILABLE', `the identity provider's keys (${jwksUrl}) could not be fetched: ${reason}; try again later`, undefined, { cause: err });
    }
    const { sub, exp } = payload;
    if (typeof sub !== 'string' || !sub) throw unauthenticated('the OIDC token is refused: its "sub" claim is not a name');
    // jose has checked that exp is a number.
    return { ...payload, sub, exp: exp! };
  }
}

/** Three dot-separated parts whose first is a JOSE header (JSON with an `alg`): a JWT, valid or not. */
function isJwt(token: string): boolean {
  if (token.split('.').length !== 3) return false;
  try {
    return typeof decodeProtectedHeader(token).alg === 'string';
  } catch {
    return false;
  }
}

/** Why jose refused the token, said for the client; undefined when the failure is not the token's. */
function refusal(err: unknown, { issuer, audience, jwksUrl }: OidcSettings): string | undefined {
  if (err instanceof errors.JWTExpired) return `it expired at ${timeOf(err.payload.exp)}`;
  if (err instanceof errors.JWTClaimValidationFailed) {
    const { claim, reason, payload } = err;
    if (reason === 'missing') return `it has no "${claim}" claim`;
    if (claim === 'iss') return `it was issued by ${JSON.stringify(payload.iss)}, not by the trusted issuer ${JSON.stringify(issuer)}`;
    if (claim === 'aud') return `it is for audience ${JSON.stringify(payload.aud)}, not ${JSON.stringify(audience)}`;
    if (claim === 'nbf') return `it is not valid before ${timeOf(payload.nbf)}`;
    return `its "${claim}" claim is not valid (${err.message})`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not verify (altered, or not signed by the identity provider)';
  if (err instanceof errors.JWKSNoMatchingKey) return `it is signed with a key that the identity provider's JWKS (${jwksUrl}) does not have`;
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return `its algorithm is not accepted (${err.message}): it must be signed with one of the provider's public keys`;
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return `it is malformed (${err.message})`;
  return undefined;
}

/** An error's message with its cause's (fetch says only "fetch failed", its cause why). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message} (${err.cause.message})` : err.message;
}

const timeOf = (seconds: unknown) => (typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : String(seconds));

const unauthenticated = (message: string, cause?: unknown) => new KilnError('UNAUTHENTICATED', message, undefined, { cause });
