// The `authorization: Bearer <token>` header: read (and refused when malformed) on the server, sent by clients.
import * as grpc from '@grpc/grpc-js';
import { unauthenticated } from '@kiln/errors';

/** Longest token read: a JWT with many claims stays well under it; anything longer is refused unread. */
export const MAX_TOKEN_BYTES = 8192;

/** RFC 6750's b64token: what a bearer token may be made of (no spaces, controls or non-ASCII). */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The bearer token a call carries: undefined when it sends none; UNAUTHENTICATED saying what is wrong when its
 * header is there but malformed (several values, not Bearer, empty, too long, characters a token cannot have).
 */
export function bearerToken(metadata: grpc.Metadata): string | undefined {
  const values = metadata.get('authorization');
  if (values.length === 0) return undefined;
  if (values.length > 1) throw unauthenticated(`malformed authorization: ${values.length} values, send one`);
  const value = values[0];
  if (typeof value !== 'string') throw unauthenticated('malformed authorization: binary value, expected "Bearer <token>"');
  if (value.length > MAX_TOKEN_BYTES + 7) throw unauthenticated(`malformed authorization: longer than ${MAX_TOKEN_BYTES} bytes`);
  const match = /^bearer(?: +(.*))?$/i.exec(value.trim());
  if (!match) throw unauthenticated('malformed authorization: not a Bearer token, expected "Bearer <token>"');
  const token = match[1] ?? '';
  if (!token) throw unauthenticated('malformed authorization: the Bearer token is empty');
  if (!B64TOKEN.test(token)) throw unauthenticated('malformed authorization: the token has characters a bearer token cannot have');
  return token;
}

/** Client options that send `token` on every call (none when it is undefined): API tokens, the service token. */
export function withBearerToken(token: string | undefined): grpc.ClientOptions {
  if (!token) return {};
  const header = `Bearer ${token}`;
  const interceptor: grpc.Interceptor = (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', header);
        next(metadata, listener);
      },
    });
  return { interceptors: [interceptor] };
}
