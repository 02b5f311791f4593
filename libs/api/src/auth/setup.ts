// Whether a server authenticates its callers, decided once at its start (secure by default): on when a credential is
// configured; off only on loopback (npm start, the quickstart) or when KILN_AUTH=none says so; a server on any other
// address with nothing configured refuses to start, naming the settings.
import type * as grpc from '@grpc/grpc-js';
import { unauthenticated } from '@kiln/errors';
import type { Logger } from 'pino';
import type { BearerVerifier } from '../context';
import type { Interceptor } from '../interceptors/interceptor';
import { authentication } from '../interceptors/authentication';
import { authorization } from '../interceptors/authorization';
import type { ReflectionGuard } from '../reflection';
import { withBearerToken } from './bearer';
import type { Policy } from './policy';
import { serviceCertificateCaller, serviceTokenVerifier } from './service-token';

/** The settings (KILN_AUTH, KILN_ADMIN_TOKEN, KILN_SERVICE_TOKEN, KILN_REFLECTION: see @kiln/config). */
export interface AuthSettings {
  mode: 'auto' | 'on' | 'none';
  adminToken?: string;
  serviceToken?: string;
  /** Names of the services' own mTLS certificates (KILN_TLS_SERVICE_NAMES): a call presenting one is a service's. */
  serviceCertificateNames?: readonly string[];
  reflection: 'open' | 'authenticated';
}

export interface ServerAuthInput {
  settings: AuthSettings;
  /** The server's listen address and the variable that sets it, for the refusal's message. */
  listen: string;
  listenSetting: string;
  policy: Policy;
  /** Verifiers besides the service token: the registry's API tokens, OIDC. */
  verifiers?: BearerVerifier[];
  /** Whether OIDC is configured (it turns authentication on, like a token). */
  oidc?: boolean;
}

export interface ServerAuth {
  /** For startServer: authentication, then authorization; none when authentication is off. */
  interceptors: Interceptor[];
  guardReflection?: ReflectionGuard;
}

/** The options of this service's clients of other Kiln services: they present the service token when there is one. */
export function serviceClientOptions(settings: AuthSettings): grpc.ClientOptions {
  return withBearerToken(settings.serviceToken);
}

export function serverAuth(input: ServerAuthInput, log: Logger): ServerAuth {
  const { settings } = input;
  const certificateNames = settings.serviceCertificateNames ?? [];
  const configured = Boolean(settings.adminToken || settings.serviceToken || certificateNames.length || input.oidc);
  const on = settings.mode === 'on' || (settings.mode === 'auto' && configured);
  if (!on) {
    if (settings.mode === 'none') {
      log.warn({ address: input.listen }, 'authentication is off (KILN_AUTH=none): any client that reaches this server may call it');
    } else if (!isLoopback(input.listen)) {
      throw new Error(`${input.listenSetting}=${input.listen} is not a loopback address and no authentication is configured: ` +
        'set KILN_ADMIN_TOKEN (Kiln API tokens) or KILN_OIDC_ISSUER (OIDC), with KILN_SERVICE_TOKEN, or KILN_AUTH=none to serve without');
    } else {
      log.info({ address: input.listen }, 'authentication is off: this server listens on loopback only and no token is configured ' +
        '(KILN_ADMIN_TOKEN, KILN_SERVICE_TOKEN, KILN_OIDC_ISSUER)');
    }
    return { interceptors: [] };
  }
  // The registry's calls to the builder and inference, and theirs back, need an identity: the service token, or the
  // services' mTLS client certificates.
  if (!settings.serviceToken && !certificateNames.length) {
    throw new Error('authentication is on but KILN_SERVICE_TOKEN is not set: the registry, builder and inference present it to one another ' +
      '(at least 32 characters), or, with mTLS (KILN_TLS_CLIENT_CA), set KILN_TLS_SERVICE_NAMES to their certificates\' names');
  }
  // A server only Kiln services may call (builder, inference) refuses everyone else alike: PERMISSION_DENIED.
  const servicesOnly = Object.values(input.policy).every((rule) => 'servicesOnly' in rule);
  const authenticator = authentication(
    [...(settings.serviceToken ? [serviceTokenVerifier(settings.serviceToken)] : []), ...(input.verifiers ?? [])],
    { unknownIsAnonymous: servicesOnly, certificateCaller: certificateNames.length ? serviceCertificateCaller(certificateNames) : undefined },
  );
  log.info({ address: input.listen, reflection: settings.reflection }, 'authentication is on');
  return {
    interceptors: [authenticator.interceptor, authorization(input.policy)],
    guardReflection: settings.reflection === 'authenticated' ? async (metadata, peer) => {
      const caller = await authenticator.authenticate(metadata, peer);
      if (caller.kind === 'anonymous') throw unauthenticated('reflection needs a valid token here (KILN_REFLECTION=authenticated)');
    } : undefined,
  };
}

/** Whether a listen address (host:port, [v6]:port, unix:path) is reachable only from this host. */
export function isLoopback(address: string): boolean {
  if (address.startsWith('unix:')) return true;
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
