// HTTP to a registry's Distribution API v2 with auth: none, basic, or bearer tokens from the registry's challenge.
import { KilnError, type ErrorCode } from '@kiln/errors';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryOptions {
  /** host[:port] */
  registry: string;
  /** Plain HTTP. Only for registries on loopback, and only when configured so. */
  insecure?: boolean;
  credentials?: RegistryCredentials;
  /** For tests: count requests, inject faults. Defaults to the global fetch. */
  fetch?: typeof fetch;
  userAgent?: string;
}

type Challenge = { scheme: 'basic' } | { scheme: 'bearer'; realm: string; service?: string; scope?: string };

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Buffers only: a request may be sent again after a 401, so its body must be replayable. */
  body?: Buffer | string;
  /** Token scopes this request needs, e.g. `repository:models/iris:pull,push`. */
  scopes?: string[];
  /** Status codes that are not errors. */
  ok?: number[];
  /** What to name in errors (repository, digest). */
  location?: string;
  redirect?: 'follow' | 'manual' | 'error';
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;

export function isLoopback(registry: string): boolean {
  return LOOPBACK.test(registry);
}

/**
 * One registry's transport. It learns the auth scheme from the first 401 challenge, caches bearer tokens per scope
 * set, sends Basic credentials preemptively once the registry asked for them, and on a 401 fetches a new token
 * and sends the request once more.
 */
export class RegistryTransport {
  readonly registry: string;
  readonly baseUrl: string;
  private readonly credentials?: RegistryCredentials;
  private readonly fetchImpl: typeof fetch;
  private readonly userAgent: string;
  private challenge?: Challenge;
  private pinged?: Promise<void>;
  // Promises, so concurrent requests for the same scopes share one token request.
  private readonly tokens = new Map<string, Promise<{ token: string; expires: number }>>();
  /** Number of token requests made: tests use it to prove tokens are reused. */
  tokenRequests = 0;

  constructor(options: RegistryOptions) {
    if (!options.registry || /[/\s]/.test(options.registry)) {
      throw new KilnError('INVALID_ARGUMENT', `bad registry host ${JSON.stringify(options.registry)}`, 'registry');
    }
    if (options.insecure && !isLoopback(options.registry)) {
      throw new KilnError('INVALID_ARGUMENT', 'plain HTTP is only allowed for a loopback registry', options.registry);
    }
    this.registry = options.registry;
    this.baseUrl = `${options.insecure ? 'http' : 'https'}://${options.registry}`;
    this.credentials = options.credentials;
    this.fetchImpl = options.fetch ?? fetch;
    this.userAgent = options.userAgent ?? 'kiln-oci';
  }

  url(path: string): string {
    return new URL(path, this.baseUrl).toString();
  }

  /** Sends a request to `pathOrUrl` (relative to the registry or absolute, as upload Locations are). */
  async request(method: string, pathOrUrl: string, options: RequestOptions = {}): Promise<Response> {
    const url = this.url(pathOrUrl);
    const scopes = [...(options.scopes ?? [])];
    await this.ping();
    let res = await this.send(method, url, options, await this.authorization(scopes, false));
    if (res.status === 401) {
      await res.body?.cancel();
      const header = res.headers.get('www-authenticate');
      const challenge = header ? parseChallenge(header) : undefined;
      if (!challenge) throw this.error('FAILED_PRECONDITION', `401 without a usable WWW-Authenticate (${header})`, url);
      this.challenge = challenge;
      if (challenge.scheme === 'bearer' && challenge.scope) {
        for (const s of challenge.scope.split(' ')) if (!scopes.some((have) => scopeCovers(have, s))) scopes.push(s);
      }
      res = await this.send(method, url, options, await this.authorization(scopes, true));
      if (res.status === 401) {
        const body = await res.text().catch(() => '');
        throw this.error('FAILED_PRECONDITION', `authentication failed (401) ${describeErrors(body)}`, options.location ?? url);
      }
    }
    const ok = options.ok ?? [200, 201, 202, 204];
    if (!ok.includes(res.status)) {
      const body = await res.text().catch(() => '');
      const location = options.location ?? url;
      throw new RegistryError(statusCode(res.status), `${method} ${new URL(url).pathname} returned ${res.status} ${describeErrors(body)}`,
        location.startsWith(this.registry) ? location : `${this.registry} ${location}`, res.status, parseErrors(body));
    }
    return res;
  }

  /**
   * The Authorization header for a request whose body is a stream, which cannot be sent again after a 401: '' when
   * the registry asks for none, Basic when it asks for basic auth and credentials are configured, null when it wants
   * bearer tokens (or credentials that are not configured). Learned from the first answer to GET /v2/.
   */
  async streamAuthorization(): Promise<string | null> {
    await this.ping();
    const challenge = this.challenge;
    if (!challenge) return '';
    if (challenge.scheme === 'basic' && this.credentials) return `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
    return null;
  }

  /** Learns the auth scheme once (GET /v2/), so that concurrent first requests do not all meet a 401. */
  private ping(): Promise<void> {
    this.pinged ??= (async () => {
      const res = await this.send('GET', this.url('/v2/'), {});
      await res.body?.cancel();
      if (res.status === 401) {
        const header = res.headers.get('www-authenticate');
        this.challenge = header ? parseChallenge(header) : undefined;
      }
    })().catch((err) => {
      this.pinged = undefined;
      throw err;
    });
    return this.pinged;
  }

  private async send(method: string, url: string, options: RequestOptions, authorization?: string): Promise<Response> {
    const headers: Record<string, string> = { 'user-agent': this.userAgent, ...(options.headers ?? {}) };
    if (authorization) headers.authorization = authorization;
    // Idempotent requests are retried on network errors; uploads are not (the caller restarts them).
    const attempts = method === 'GET' || method === 'HEAD' ? 3 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.fetchImpl(url, { method, headers, body: options.body, redirect: options.redirect ?? 'follow' });
      } catch (err) {
        if (attempt >= attempts) {
          throw new KilnError('UNAVAILABLE', `cannot reach registry: ${(err as Error).message}${causeOf(err)}`, `${this.registry} ${method} ${new URL(url).pathname}`, { cause: err });
        }
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  private async authorization(scopes: string[], fresh: boolean): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      if (!this.credentials) throw this.error('FAILED_PRECONDITION', 'registry wants basic auth and no credentials are configured', this.registry);
      return `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
    }
    const key = [...new Set(scopes)].sort().join(' ');
    const cached = this.tokens.get(key);
    if (!fresh && cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.expires > Date.now()) return `Bearer ${token.token}`;
    }
    const pending = this.fetchToken(challenge, key ? key.split(' ') : []);
    this.tokens.set(key, pending);
    pending.catch(() => this.tokens.get(key) === pending && this.tokens.delete(key));
    return `Bearer ${(await pending).token}`;
  }

  private async fetchToken(challenge: Extract<Challenge, { scheme: 'bearer' }>, scopes: string[]) {
    const url = new URL(challenge.realm);
    if (challenge.service) url.searchParams.set('service', challenge.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    if (this.credentials) {
      headers.authorization = `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
    }
    this.tokenRequests++;
    let res: Response;
    try {
      res = await this.fetchImpl(url, { headers });
    } catch (err) {
      throw new KilnError('UNAVAILABLE', `cannot reach token server: ${(err as Error).message}${causeOf(err)}`, challenge.realm, { cause: err });
    }
    const text = await res.text();
    if (!res.ok) {
      throw new KilnError(res.status >= 500 ? 'UNAVAILABLE' : 'FAILED_PRECONDITION', `token request returned ${res.status}: ${text.slice(0, 200)}`, `${challenge.realm} (${this.registry})`);
    }
    const body = JSON.parse(text) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new KilnError('FAILED_PRECONDITION', 'token response has no token', challenge.realm);
    // Tokens default to 60 s (the token spec); renew 10 s early.
    const expires = Date.now() + Math.max(0, (body.expires_in ?? 60) - 10) * 1000;
    return { token, expires };
  }

  private error(code: ErrorCode, message: string, location: string): KilnError {
    return new KilnError(code, message, location.startsWith(this.registry) ? location : `${this.registry} ${location}`);
  }
}

/** Parses `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[p[1].toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  }
  if (scheme === 'basic') return { scheme: 'basic' };
  if (scheme === 'bearer' && params.realm) {
    return { scheme: 'bearer', realm: params.realm, service: params.service, scope: params.scope };
  }
  return undefined;
}

/** Whether scope `have` grants everything `want` asks (same resource, a superset of actions). */
export function scopeCovers(have: string, want: string): boolean {
  const split = (s: string) => {
    const last = s.lastIndexOf(':');
    return { resource: s.slice(0, last), actions: new Set(s.slice(last + 1).split(',')) };
  };
  const h = split(have);
  const w = split(want);
  return h.resource === w.resource && [...w.actions].every((a) => h.actions.has(a) || h.actions.has('*'));
}

function statusCode(status: number): ErrorCode {
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RESOURCE_EXHAUSTED';
  if (status >= 500) return 'UNAVAILABLE';
  return 'FAILED_PRECONDITION';
}

/** One entry of a Distribution error body's `errors` array. */
export interface DistributionError {
  code: string;
  message?: string;
  detail?: unknown;
}

/** A registry's answer that is not one the caller expects: its status and the errors it listed, for callers to act on. */
export class RegistryError extends KilnError {
  constructor(code: ErrorCode, message: string, location: string, readonly status: number, readonly errors: DistributionError[]) {
    super(code, message, location);
  }
}

function parseErrors(body: string): DistributionError[] {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: unknown; message?: unknown; detail?: unknown }> };
    return (parsed.errors ?? []).filter((e) => typeof e?.code === 'string')
      .map((e) => ({ code: e.code as string, ...(typeof e.message === 'string' ? { message: e.message } : {}), ...(e.detail !== undefined ? { detail: e.detail } : {}) }));
  } catch {
    return [];
  }
}

/** The `errors` array of a registry error body, briefly. */
function describeErrors(body: string): string {
  const errors = parseErrors(body);
  return errors.length ? errors.map((e) => `${e.code}: ${e.message}`).join('; ') : body.slice(0, 200);
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause ? ` (${cause.code ?? cause.message})` : '';
}
