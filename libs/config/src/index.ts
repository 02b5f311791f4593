// Kiln's configuration: every setting read from the environment in this one typed, validated module, with the
// defaults that make `npm start` run on embedded parts (PGlite, a local blob folder, a local OCI layout).
import path from 'node:path';
import { z } from 'zod';

const GiB = 1024 ** 3;

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');
const int = z.coerce.number().int().nonnegative();

/** A metrics listen address: host:port, or 0 / off for none (undefined). */
const metricsListen = (fallback: string) =>
  z.string().default(fallback).transform((v) => (v === '0' || v.toLowerCase() === 'off' || v === '' ? undefined : v));

/**
 * Where a service reaches another: one `host:port` (or any gRPC target, `dns:///name:port` included), or the replicas'
 * `IP:port` list, comma-separated, which becomes a gRPC `ipv4:`/`ipv6:` target (libs/api balances such targets round
 * robin; grpc-js resolves no host names in a static list, so replicas by name are one `dns:` name with every
 * replica's address).
 */
const IPV4_ENTRY = /^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/;
const IPV6_ENTRY = /^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/;
const serviceAddress = z.string().optional().transform((v, ctx) => {
  if (v === undefined || !v.includes(',')) return v;
  const entries = v.split(',').map((e) => e.trim()).filter(Boolean);
  for (const family of [{ scheme: 'ipv4', entry: IPV4_ENTRY }, { scheme: 'ipv6', entry: IPV6_ENTRY }]) {
    if (entries.every((e) => family.entry.test(e))) return `${family.scheme}:${entries.join(',')}`;
  }
  ctx.addIssue({ code: 'custom', message: 'a list of replicas is IP:port entries of one family, comma-separated (replicas by host name: one dns:/// name that resolves to each)' });
  return z.NEVER;
});

/** Keys fetched in the clear could be swapped on the way (and with them, who may do what): http only on loopback. */
const oidcJwksUrl = z.url({ protocol: /^https?$/, abort: true }).refine((v) => {
  const url = new URL(v);
  return url.protocol === 'https:' || ['localhost', '[::1]'].includes(url.hostname) || /^127(\.\d{1,3}){3}$/.test(url.hostname);
}, 'use https (plain http only to a loopback host)');

/** Every variable, its default, and what it means (the README's configuration table is this list). */
export const ENV_SCHEMA = z.object({
  KILN_DATA_DIR: z.string().default('.kiln').describe('Folder for embedded data: PGlite database, local blobs, OCI layout'),
  DATABASE_URL: z.string().optional().describe('Postgres URL; unset runs an embedded PGlite in KILN_DATA_DIR/postgres'),
  KILN_DB_POOL_SIZE: int.default(10).describe('Postgres connections per service (embedded PGlite: always 1)'),
  KILN_S3_BUCKET: z.string().optional().describe('S3 bucket for blobs; unset stores blobs in KILN_DATA_DIR/blobs'),
  KILN_S3_ENDPOINT: z.string().optional().describe('S3 endpoint URL for S3-compatible servers (MinIO, SeaweedFS)'),
  KILN_S3_REGION: z.string().default('us-east-1').describe('S3 region'),
  KILN_S3_PREFIX: z.string().default('').describe('Key prefix inside the bucket'),
  KILN_S3_FORCE_PATH_STYLE: bool.default(true).describe('Path-style S3 URLs (needed by most S3-compatible servers)'),
  KILN_S3_ACCESS_KEY_ID: z.string().optional().describe('S3 access key; unset uses the AWS SDK chain (AWS_ACCESS_KEY_ID, profiles, roles)'),
  KILN_S3_SECRET_ACCESS_KEY: z.string().optional().describe('S3 secret key (with KILN_S3_ACCESS_KEY_ID)'),
  KILN_S3_PART_SIZE: int.default(8 * 1024 * 1024).describe('Multipart upload part size in bytes (at least 5 MiB; parts grow every 1,000 parts)'),
  KILN_S3_PARTS_IN_FLIGHT: z.coerce.number().int().min(1).default(4).describe('Parts of one upload sent at once: a put holds this many parts plus one in memory'),
  KILN_REGISTRY_LISTEN: z.string().default('127.0.0.1:50051').describe('Registry gRPC listen address'),
  KILN_BUILDER_LISTEN: z.string().default('127.0.0.1:50052').describe('Builder gRPC listen address'),
  KILN_INFERENCE_LISTEN: z.string().default('127.0.0.1:50053').describe('Inference gRPC listen address'),
  KILN_REGISTRY_ADDRESS: serviceAddress.describe('Where the other services reach the registry (default: its listen address); replicas: their IP:port list, comma-separated, or a dns:/// name resolving to each, called round robin'),
  KILN_BUILDER_ADDRESS: serviceAddress.describe('Where the registry reaches the builder (default: its listen address); replicas: as KILN_REGISTRY_ADDRESS'),
  KILN_INFERENCE_ADDRESS: serviceAddress.describe('Where the registry reaches inference (default: its listen address); replicas: as KILN_REGISTRY_ADDRESS'),
  KILN_REGISTRY_METRICS_LISTEN: metricsListen('127.0.0.1:9451').describe('Prometheus /metrics HTTP address of a process running the registry (one endpoint per process, with all its services); 0 or off disables'),
  KILN_BUILDER_METRICS_LISTEN: metricsListen('127.0.0.1:9452').describe('Same, for a process running the builder without the registry'),
  KILN_INFERENCE_METRICS_LISTEN: metricsListen('127.0.0.1:9453').describe('Same, for a process running inference alone'),
  KILN_INFERENCE_PATH_ROOTS: z.string().default('').transform((v) => v.split(path.delimiter).filter(Boolean).map((p) => path.resolve(p))).describe(`Folders (separated by "${path.delimiter}") under which InferContract may read a model by path; empty, the default, refuses every path so that clients cannot make the service read server files`),
  KILN_MAX_FILE_BYTES: int.default(256 * GiB).describe('Largest single file in an upload'),
  KILN_MAX_UPLOAD_BYTES: int.default(1024 * GiB).describe('Largest upload (sum of file sizes after decompression; a link counts at its target\'s size)'),
  KILN_MAX_FILES: int.default(100_000).describe('Most files in one upload (links included)'),
  KILN_MAX_DECOMPRESSION_RATIO: int.default(100).describe('Most bytes a .tar.gz upload may decompress to per compressed byte, checked once it passes 64 MiB decompressed (smaller archives are never refused for it); over it the upload is refused as a gzip bomb; 0 disables'),
  KILN_IMAGE_SINK: z.enum(['layout', 'registry']).optional().describe('Where images go: a local OCI layout or a registry (default: registry when KILN_IMAGE_REGISTRY is set)'),
  KILN_IMAGE_LAYOUT_DIR: z.string().optional().describe('OCI image layout folder (default KILN_DATA_DIR/images)'),
  KILN_IMAGE_REGISTRY: z.string().optional().describe('Container registry host[:port] images are pushed to'),
  KILN_IMAGE_REGISTRY_INSECURE: bool.default(false).describe('Plain HTTP to the registry (loopback test registries)'),
  KILN_IMAGE_REGISTRY_USERNAME: z.string().optional().describe('Registry user (basic auth or token realm)'),
  KILN_IMAGE_REGISTRY_PASSWORD: z.string().optional().describe('Registry password'),
  KILN_IMAGE_PREFIX: z.string().default('kiln').describe('Repository prefix: images are <registry>/<prefix>/<namespace>/<name>:<version>'),
  KILN_DOCKER_HOST: z.string().optional().describe('Docker engine for builds with an install-command (unix:///path or tcp://host:port)'),
  KILN_BUILD_RETRY_LIMIT: int.default(20).describe('Retries of a build that failed in a way another attempt can cure (builder, engine or registry unavailable, busy or interrupted) before the version is FAILED'),
  KILN_BUILD_RETRY_DELAY_SECONDS: z.coerce.number().int().min(1).default(2).describe('Delay before the first retry of a build; it doubles with each retry'),
  KILN_BUILD_RETRY_MAX_DELAY_SECONDS: z.coerce.number().int().min(1).default(300).describe('Longest delay between two retries of a build (the defaults retry for about an hour)'),
  KILN_BUILD_CONCURRENCY: z.coerce.number().int().min(1).default(1).describe('Builds one registry runs at once (each a call to a builder): with several builders, at least their number divided by the registries\' keeps each busy'),
  KILN_BUILD_LEASE_SECONDS: z.coerce.number().int().min(1).default(30).describe('A running build\'s lease, renewed every third of it: a registry that stops renewing (crashed) has its build retried by another after this long'),
  KILN_UPLOAD_LEASE_SECONDS: z.coerce.number().int().min(1).default(60).describe('An upload\'s lease, renewed every third of it: once a registry stops renewing (crashed), any registry removes what the upload left in the blob store (open multipart uploads, staged objects, pending blobs) within about one and a half times this'),
  KILN_WEBHOOK_ALLOWED_HOSTS: z.string().default('').transform((v) => v.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean)).describe('Comma-separated hosts webhooks may deliver to beyond loopback (localhost, 127.0.0.0/8, ::1, always allowed): exact names (hooks.example.com), *.example.com for its subdomains, IP addresses or CIDR ranges (10.1.2.0/24). A name must resolve to public addresses unless a listed address or range covers them, so that a webhook cannot reach the internal network'),
  KILN_WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(10).describe('How long one webhook delivery attempt may take (connect, send, status line) before it counts as failed'),
  KILN_WEBHOOK_RETRY_DELAY_SECONDS: z.coerce.number().int().min(1).default(1).describe('Delay after a webhook\'s first failed attempt; it doubles with each failure in a row'),
  KILN_WEBHOOK_RETRY_MAX_DELAY_SECONDS: z.coerce.number().int().min(1).default(300).describe('Longest delay between two attempts of a webhook'),
  KILN_WEBHOOK_DISABLE_AFTER: z.coerce.number().int().min(1).default(10).describe('Failed attempts in a row after which a webhook is disabled, with the reason (EnableWebhook, kiln webhook enable, resumes it from the event it failed on)'),
  KILN_WEBHOOK_LEASE_SECONDS: z.coerce.number().int().min(1).default(30).describe('A webhook\'s delivery lease, renewed every third of it: a registry that stops renewing (crashed) has its webhooks\' deliveries taken over, the interrupted event sent again, after this long'),
  KILN_WEBHOOK_SOURCE: z.string().min(1).default('kiln://registry').describe('The CloudEvents "source" of every webhook delivery (tells one Kiln from another at a shared receiver)'),
  KILN_TLS_CERT: z.string().optional().describe('PEM certificate (chain) every server of the process serves TLS with, and that its services present to each other as their client certificate; with KILN_TLS_KEY. Unset: plaintext'),
  KILN_TLS_KEY: z.string().optional().describe('PEM private key of KILN_TLS_CERT'),
  KILN_TLS_CLIENT_CA: z.string().optional().describe('PEM CA file: set, every server requires a client certificate signed by it (mTLS), the services\' calls to one another included'),
  KILN_TLS_CA: z.string().optional().describe('PEM CA file the services trust for each other\'s server certificates (default: KILN_TLS_CLIENT_CA, else the system\'s roots); set alone, the services call each other over TLS without serving it'),
  KILN_TLS_RELOAD_SECONDS: z.coerce.number().int().min(1).default(60).describe('How often the TLS files are read again: a rotated certificate (replace the files, by a rename) is served from the next handshake on, without a restart'),
  KILN_TLS_SERVICE_NAMES: z.string().default('').transform((v) => v.split(',').map((n) => n.trim()).filter(Boolean)).describe('Comma-separated names (common name, or a DNS or URI subjectAltName) of the Kiln services\' own certificates: with mTLS (KILN_TLS_CLIENT_CA), a call presenting one of them is a Kiln service\'s, which then needs no KILN_SERVICE_TOKEN'),
  // OIDC: bearer JWTs from an identity provider (libs/api/src/auth/oidc.ts); on when issuer, audience and JWKS are set.
  KILN_OIDC_ISSUER: z.string().optional().describe('OIDC: the identity provider\'s issuer, exactly as its tokens\' "iss" says; with KILN_OIDC_AUDIENCE and KILN_OIDC_JWKS_URL, turns on JWT bearer tokens'),
  KILN_OIDC_AUDIENCE: z.string().optional().describe('OIDC: the audience ("aud") a token must be for (the client id Kiln has at the provider)'),
  KILN_OIDC_JWKS_URL: oidcJwksUrl.optional().describe('OIDC: the provider\'s JSON Web Key Set (its discovery document\'s jwks_uri); https, or http to a loopback host only'),
  KILN_OIDC_ROLES: z.string().default('').describe('OIDC: the roles a token\'s claims give, comma-separated claim:value=role@namespace rules (groups:ml-platform=admin@*,groups:team-fraud=writer@fraud); a valid token matching none has no role'),
  KILN_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('Log level'),
  KILN_SHUTDOWN_GRACE_MS: int.default(15_000).describe('How long SIGTERM waits for in-flight calls'),
  KILN_HEALTH_INTERVAL_MS: z.coerce.number().int().min(100).default(5000).describe('How often each service checks that its dependencies answer (registry: Postgres and the blob store; builder and inference: the blob store); grpc.health.v1 reports NOT_SERVING while one does not (2 s each at most)'),
  KILN_INFERENCE_TIMEOUT_MS: z.coerce.number().int().min(1).default(120_000).describe('Deadline of each registry call to inference (an upload fails with DEADLINE_EXCEEDED after it)'),
  KILN_AUTH: z.enum(['auto', 'on', 'none']).default('auto').describe('Authentication: auto (on when KILN_ADMIN_TOKEN, KILN_SERVICE_TOKEN or OIDC is set; off otherwise, which only a server listening on loopback may be), on (also with no token in the environment: API tokens already in the database), none (off, even on a non-loopback address)'),
  KILN_ADMIN_TOKEN: z.string().regex(/^kiln_[A-Za-z0-9_-]{32,}$/, 'must be kiln_ followed by at least 32 random characters (A-Z a-z 0-9 _ -)').optional().describe('An admin API token (role admin on every namespace) the registry registers, hashed, at start if it never has (a revoked one stays revoked); make one with: echo kiln_$(openssl rand -hex 32)'),
  KILN_SERVICE_TOKEN: z.string().min(32, 'must be at least 32 characters').optional().describe('The secret the Kiln services share: the registry presents it to the builder and inference, they to the registry; with authentication on, the builder and inference accept only it'),
  KILN_REFLECTION: z.enum(['open', 'authenticated']).default('open').describe('Who may use server reflection (grpcurl list/describe) when authentication is on: anyone, or callers with a valid token; grpc.health.v1 is always open'),
});

export type Env = z.infer<typeof ENV_SCHEMA>;

export interface KilnConfig {
  dataDir: string;
  database: { url?: string; embeddedDir: string; poolSize: number };
  blobs: { kind: 'local'; dir: string } | {
    kind: 's3';
    bucket: string;
    endpoint?: string;
    region: string;
    prefix: string;
    forcePathStyle: boolean;
    partSize: number;
    partsInFlight: number;
    credentials?: { accessKeyId: string; secretAccessKey: string };
  };
  listen: { registry: string; builder: string; inference: string };
  /** Where each service serves Prometheus metrics (/metrics over HTTP); undefined when disabled. */
  metrics: { registry?: string; builder?: string; inference?: string };
  addresses: { registry: string; builder: string; inference: string };
  /** Folders InferContract may read models from by path (none: path reads refused). */
  inferencePathRoots: string[];
  /** The archive reader's limits (sum of file sizes as maxTotalBytes). */
  limits: { maxFileBytes: number; maxTotalBytes: number; maxFiles: number; maxCompressionRatio: number };
  images: {
    sink: 'layout' | 'registry';
    layoutDir: string;
    registry?: string;
    insecure: boolean;
    username?: string;
    password?: string;
    prefix: string;
  };
  dockerHost?: string;
  /** The build queue: retries with capped exponential backoff, and the lease a running build holds. */
  builds: { retryLimit: number; retryDelaySeconds: number; retryMaxDelaySeconds: number; leaseSeconds: number; concurrency: number };
  /** The lease an upload in progress holds (and renews) on what it stores until it commits. */
  uploads: { leaseSeconds: number };
  /** Webhook deliveries: the hosts beyond loopback they may reach (as written: checked by the registry's
   * webhooks.ts), each attempt's timeout, the retries' backoff, when a webhook is disabled, and the delivery lease. */
  webhooks: {
    allowedHosts: string[];
    timeoutMs: number;
    retryDelayMs: number;
    retryMaxDelayMs: number;
    disableAfter: number;
    leaseMs: number;
    source: string;
  };
  /** JWT bearer tokens from an identity provider; undefined when not configured. `roles` is the claim mapping as
   * written (parsed and checked when the verifier is made: libs/api/src/auth/claim-roles.ts). */
  oidc?: { issuer: string; audience: string; jwksUrl: string; roles: string };
  logLevel: Env['KILN_LOG_LEVEL'];
  shutdownGraceMs: number;
  inferenceTimeoutMs: number;
  /** How the servers probe their dependencies for grpc.health.v1. */
  health: { intervalMs: number };
  /** TLS of every server (undefined: plaintext), and of the services' calls to one another (undefined: plaintext):
   * the server's certificate is also the client certificate a service presents. */
  tls: {
    server?: { cert: string; key: string; clientCa?: string; reloadMs: number };
    client?: { ca?: string; cert?: string; key?: string; reloadMs: number };
  };
  /** Who may call (see @kiln/api/auth/setup for what each mode means). */
  auth: { mode: Env['KILN_AUTH']; adminToken?: string; serviceToken?: string; serviceCertificateNames: string[]; reflection: Env['KILN_REFLECTION'] };
}

/** Reads and validates the configuration; a bad value throws one error naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): KilnConfig {
  const parsed = ENV_SCHEMA.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.KILN_DATA_DIR);
  const listen = { registry: e.KILN_REGISTRY_LISTEN, builder: e.KILN_BUILDER_LISTEN, inference: e.KILN_INFERENCE_LISTEN };
  return {
    dataDir,
    database: { url: e.DATABASE_URL, embeddedDir: path.join(dataDir, 'postgres'), poolSize: e.KILN_DB_POOL_SIZE },
    blobs: e.KILN_S3_BUCKET
      ? {
          kind: 's3',
          bucket: e.KILN_S3_BUCKET,
          endpoint: e.KILN_S3_ENDPOINT,
          region: e.KILN_S3_REGION,
          prefix: e.KILN_S3_PREFIX,
          forcePathStyle: e.KILN_S3_FORCE_PATH_STYLE,
          partSize: e.KILN_S3_PART_SIZE,
          partsInFlight: e.KILN_S3_PARTS_IN_FLIGHT,
          credentials: e.KILN_S3_ACCESS_KEY_ID && e.KILN_S3_SECRET_ACCESS_KEY
            ? { accessKeyId: e.KILN_S3_ACCESS_KEY_ID, secretAccessKey: e.KILN_S3_SECRET_ACCESS_KEY }
            : undefined,
        }
      : { kind: 'local', dir: path.join(dataDir, 'blobs') },
    listen,
    metrics: { registry: e.KILN_REGISTRY_METRICS_LISTEN, builder: e.KILN_BUILDER_METRICS_LISTEN, inference: e.KILN_INFERENCE_METRICS_LISTEN },
    addresses: {
      registry: e.KILN_REGISTRY_ADDRESS ?? listen.registry,
      builder: e.KILN_BUILDER_ADDRESS ?? listen.builder,
      inference: e.KILN_INFERENCE_ADDRESS ?? listen.inference,
    },
    inferencePathRoots: e.KILN_INFERENCE_PATH_ROOTS,
    limits: {
      maxFileBytes: e.KILN_MAX_FILE_BYTES,
      maxTotalBytes: e.KILN_MAX_UPLOAD_BYTES,
      maxFiles: e.KILN_MAX_FILES,
      maxCompressionRatio: e.KILN_MAX_DECOMPRESSION_RATIO,
    },
    images: {
      sink: e.KILN_IMAGE_SINK ?? (e.KILN_IMAGE_REGISTRY ? 'registry' : 'layout'),
      layoutDir: path.resolve(e.KILN_IMAGE_LAYOUT_DIR ?? path.join(dataDir, 'images')),
      registry: e.KILN_IMAGE_REGISTRY,
      insecure: e.KILN_IMAGE_REGISTRY_INSECURE,
      username: e.KILN_IMAGE_REGISTRY_USERNAME,
      password: e.KILN_IMAGE_REGISTRY_PASSWORD,
      prefix: e.KILN_IMAGE_PREFIX,
    },
    dockerHost: e.KILN_DOCKER_HOST,
    builds: {
      retryLimit: e.KILN_BUILD_RETRY_LIMIT,
      retryDelaySeconds: e.KILN_BUILD_RETRY_DELAY_SECONDS,
      retryMaxDelaySeconds: e.KILN_BUILD_RETRY_MAX_DELAY_SECONDS,
      leaseSeconds: e.KILN_BUILD_LEASE_SECONDS,
      concurrency: e.KILN_BUILD_CONCURRENCY,
    },
    uploads: { leaseSeconds: e.KILN_UPLOAD_LEASE_SECONDS },
    webhooks: {
      allowedHosts: e.KILN_WEBHOOK_ALLOWED_HOSTS,
      timeoutMs: e.KILN_WEBHOOK_TIMEOUT_SECONDS * 1000,
      retryDelayMs: e.KILN_WEBHOOK_RETRY_DELAY_SECONDS * 1000,
      retryMaxDelayMs: e.KILN_WEBHOOK_RETRY_MAX_DELAY_SECONDS * 1000,
      disableAfter: e.KILN_WEBHOOK_DISABLE_AFTER,
      leaseMs: e.KILN_WEBHOOK_LEASE_SECONDS * 1000,
      source: e.KILN_WEBHOOK_SOURCE,
    },
    oidc: oidcSettings(e),
    logLevel: e.KILN_LOG_LEVEL,
    shutdownGraceMs: e.KILN_SHUTDOWN_GRACE_MS,
    inferenceTimeoutMs: e.KILN_INFERENCE_TIMEOUT_MS,
    health: { intervalMs: e.KILN_HEALTH_INTERVAL_MS },
    tls: tlsSettings(e),
    auth: { mode: e.KILN_AUTH, adminToken: e.KILN_ADMIN_TOKEN, serviceToken: e.KILN_SERVICE_TOKEN, serviceCertificateNames: e.KILN_TLS_SERVICE_NAMES, reflection: e.KILN_REFLECTION },
  };
}

function tlsSettings(e: Env): KilnConfig['tls'] {
  const file = (v: string | undefined) => (v ? path.resolve(v) : undefined);
  const [cert, key, clientCa, ca] = [file(e.KILN_TLS_CERT), file(e.KILN_TLS_KEY), file(e.KILN_TLS_CLIENT_CA), file(e.KILN_TLS_CA)];
  if (!cert !== !key) throw new Error('invalid configuration: KILN_TLS_CERT and KILN_TLS_KEY are set together (a certificate and its key)');
  if (clientCa && !cert) throw new Error('invalid configuration: KILN_TLS_CLIENT_CA (mTLS) needs KILN_TLS_CERT and KILN_TLS_KEY');
  const reloadMs = e.KILN_TLS_RELOAD_SECONDS * 1000;
  return {
    server: cert && key ? { cert, key, clientCa, reloadMs } : undefined,
    // A server's CA signs the servers' certificates as often as the clients': one CA file is enough for most.
    client: cert || ca ? { ca: ca ?? clientCa, cert, key, reloadMs } : undefined,
  };
}

/** OIDC's three settings go together: some without the others (or a claim mapping alone) is a mistake, named here
 * rather than ignored. */
function oidcSettings(e: Env): KilnConfig['oidc'] {
  const { KILN_OIDC_ISSUER: issuer, KILN_OIDC_AUDIENCE: audience, KILN_OIDC_JWKS_URL: jwksUrl, KILN_OIDC_ROLES: roles } = e;
  if (issuer && audience && jwksUrl) return { issuer, audience, jwksUrl, roles };
  if (!issuer && !audience && !jwksUrl && !roles) return undefined;
  const missing = Object.entries({ KILN_OIDC_ISSUER: issuer, KILN_OIDC_AUDIENCE: audience, KILN_OIDC_JWKS_URL: jwksUrl })
    .filter(([, value]) => !value).map(([name]) => name);
  throw new Error(`invalid configuration: ${missing.join(', ')} not set: OIDC takes its issuer, audience and JWKS URL together`);
}
