// The kiln.v1 API at runtime: the package definition loaded from proto/ with @grpc/proto-loader (the one way Kiln
// talks gRPC), typed clients, and the mapping from KilnError values to gRPC statuses.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { asUnavailable, capText, KilnError, type ErrorCode } from '@kiln/errors';
import type { ProtoGrpcType as RegistryProto } from '../generated/registry';
import type { ProtoGrpcType as BuilderProto } from '../generated/builder';
import type { ProtoGrpcType as InferenceProto } from '../generated/inference';
import type { RegistryClient } from '../generated/kiln/v1/Registry';
import type { BuilderClient } from '../generated/kiln/v1/Builder';
import type { InferenceClient } from '../generated/kiln/v1/Inference';
import { encodeStatusDetails, STATUS_DETAILS_KEY } from './status-details';
import { channelCredentials, type ClientTlsSettings } from './tls';

export type { ClientTlsSettings } from './tls';

export const PROTO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../proto');
export const PROTO_FILES = [
  'kiln/v1/contract.proto',
  'kiln/v1/model.proto',
  'kiln/v1/tokens.proto',
  'kiln/v1/audit.proto',
  'kiln/v1/aliases.proto',
  'kiln/v1/events.proto',
  'kiln/v1/diff.proto',
  'kiln/v1/webhooks.proto',
  'kiln/v1/registry.proto',
  'kiln/v1/builder.proto',
  'kiln/v1/inference.proto',
];

/** The options the generated types in libs/api/generated were made with (scripts/gen-types.sh): keep in step. */
export const LOADER_OPTIONS: protoLoader.Options = {
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

let cached: protoLoader.PackageDefinition | undefined;
export function packageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync(PROTO_FILES, LOADER_OPTIONS);
  return cached;
}

type KilnProto = RegistryProto & BuilderProto & InferenceProto;
export function kilnProto(): KilnProto {
  return grpc.loadPackageDefinition(packageDefinition()) as unknown as KilnProto;
}

/** Message size limit for every Kiln server and client: upload chunks may be up to this size. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  // Channelz (on by default in grpc-js) keeps per-call counters and timestamps for a channelz service that Kiln does
  // not serve: a few objects and clock reads per call, for nothing.
  'grpc.enable_channelz': 0,
  // Kiln publishes no gRPC service config in DNS. Looking for one (a TXT query for _grpc_config.<host>) waits out the
  // resolver's timeout (~25 s) where the name server answers only for its own names (Docker's embedded DNS with no
  // upstream, as in a compose network on an offline host) before the first call can go.
  'grpc.service_config_disable_resolution': 1,
};

/**
 * A client's options: grpc-js's (channel options, interceptors: @kiln/api/auth/bearer's withBearerToken sends a
 * token) and `tls`: plaintext without it, TLS (mTLS with a client certificate) with it.
 */
export interface KilnClientOptions extends grpc.ClientOptions {
  tls?: ClientTlsSettings;
}

/** gRPC's round-robin policy, as a channel's service config. */
const ROUND_ROBIN: grpc.ChannelOptions = { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) };

/**
 * Channel options for a target: replicas (an `ipv4:`/`ipv6:` address list, which libs/config makes of a
 * comma-separated KILN_*_ADDRESS, or a `dns:` name) are called round robin, each call on the next replica that is
 * connected, so a dead one is skipped while it reconnects; one `host:port` keeps gRPC's default (pick first).
 */
export function balancing(address: string): grpc.ChannelOptions {
  return /^(ipv4|ipv6|dns):/.test(address) ? ROUND_ROBIN : {};
}

export function registryClient(address: string, { tls, ...options }: KilnClientOptions = {}): RegistryClient {
  return new (kilnProto().kiln.v1.Registry)(address, channelCredentials(tls), { ...CHANNEL_OPTIONS, ...balancing(address), ...options });
}
/** A build call streams for minutes with nothing to say in between: HTTP/2 pings while it runs notice a builder host
 * that vanished without closing the connection within seconds (the call then fails UNAVAILABLE and is retried),
 * where TCP alone would keep the call, and the build's lease, alive for hours. */
const BUILD_CALL_KEEPALIVE: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
};
export function builderClient(address: string, { tls, ...options }: KilnClientOptions = {}): BuilderClient {
  return new (kilnProto().kiln.v1.Builder)(address, channelCredentials(tls), { ...CHANNEL_OPTIONS, ...BUILD_CALL_KEEPALIVE, ...balancing(address), ...options });
}
export function inferenceClient(address: string, { tls, ...options }: KilnClientOptions = {}): InferenceClient {
  return new (kilnProto().kiln.v1.Inference)(address, channelCredentials(tls), { ...CHANNEL_OPTIONS, ...balancing(address), ...options });
}

const CODE_TO_STATUS: Record<ErrorCode, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  CANCELLED: grpc.status.CANCELLED,
  DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  DATA_LOSS: grpc.status.DATA_LOSS,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  INTERNAL: grpc.status.INTERNAL,
};
const STATUS_TO_CODE = new Map<number, ErrorCode>(
  Object.entries(CODE_TO_STATUS).map(([code, status]) => [status, code as ErrorCode]),
);

/**
 * What a status may say, in bytes of UTF-8: its message (sent as grpc-message, percent-encoded: up to 3x) and, in
 * its details, the message again with a location and a description. Worst case about 6 KiB of trailers, under the
 * 8 KiB grpc core clients accept: a larger status never reaches the client, and its connection hangs.
 */
export const MAX_STATUS_MESSAGE_BYTES = 1024;
export const MAX_STATUS_LOCATION_BYTES = 256;

/** A gRPC error for a thrown value: KilnErrors keep their code and message, and a location goes in the status
 * details too (a google.rpc.BadRequest field violation); a dependency's outage that no layer below named is
 * UNAVAILABLE; anything else is INTERNAL. Every status a server sends is made here, so this is where what it echoes
 * is capped (see MAX_STATUS_MESSAGE_BYTES). */
export function toGrpcError(thrown: unknown): Partial<grpc.StatusObject> & Error {
  const err = isGrpcError(thrown) ? thrown : asUnavailable(thrown, 'a service Kiln depends on');
  if (err instanceof KilnError) {
    const code = CODE_TO_STATUS[err.code];
    const message = capText(err.message, MAX_STATUS_MESSAGE_BYTES);
    const status = Object.assign(new Error(message), { code, details: message });
    if (!err.location) return status;
    const field = capText(err.location, MAX_STATUS_LOCATION_BYTES);
    const description = capText(messageWithoutLocation(err), MAX_STATUS_MESSAGE_BYTES);
    const metadata = new grpc.Metadata();
    metadata.set(STATUS_DETAILS_KEY, encodeStatusDetails(code, message, [{ field, description }]));
    return Object.assign(status, { metadata });
  }
  if (isGrpcError(err)) {
    // A callee's status passed on as it came, but for its size.
    if (Buffer.byteLength(err.details ?? '') <= MAX_STATUS_MESSAGE_BYTES) return err as Partial<grpc.StatusObject> & Error;
    const details = capText(err.details, MAX_STATUS_MESSAGE_BYTES);
    return Object.assign(new Error(details), { code: err.code, details });
  }
  const message = err instanceof Error ? err.message : String(err);
  // The thrown error stays its cause, for the log to show where an INTERNAL came from (never sent to the client).
  return Object.assign(new Error(capText(message, MAX_STATUS_MESSAGE_BYTES), { cause: thrown }), {
    code: grpc.status.INTERNAL,
    details: capText(`internal error: ${message}`, MAX_STATUS_MESSAGE_BYTES),
  });
}

/** What a client gets for `thrown` (see toGrpcError): its status code's name (`PERMISSION_DENIED`) and its message,
 * an INTERNAL's without the details that stay in the log. */
export function clientStatusOf(thrown: unknown): { code: string; message: string } {
  const status = toGrpcError(thrown);
  const code = status.code ?? grpc.status.UNKNOWN;
  const message = code === grpc.status.INTERNAL ? 'internal error (see the service\'s log)' : (status.details ?? status.message);
  return { code: grpc.status[code] ?? String(code), message };
}

/** Whether `name` is a gRPC status code's name (`NOT_FOUND`), or OK. */
export function isStatusCodeName(name: string): boolean {
  return typeof (grpc.status as unknown as Record<string, unknown>)[name] === 'number';
}

/** A KilnError's message as it was given, without the `location: ` its message starts with. */
function messageWithoutLocation(err: KilnError): string {
  const prefix = `${err.location}: `;
  return err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}

/** The KilnError for an error a gRPC call returned, so a service calling another keeps the callee's code. */
export function fromGrpcError(err: unknown, context?: string): KilnError {
  if (err instanceof KilnError) return err;
  if (isGrpcError(err)) {
    const code = STATUS_TO_CODE.get(err.code) ?? 'INTERNAL';
    const details = err.details || err.message;
    return new KilnError(code, context ? `${context}: ${details}` : details);
  }
  return new KilnError('INTERNAL', context ? `${context}: ${String(err)}` : String(err));
}

export function isGrpcError(err: unknown): err is grpc.ServiceError {
  return typeof err === 'object' && err !== null && typeof (err as grpc.ServiceError).code === 'number' &&
    'details' in (err as object);
}

export type { RegistryClient, BuilderClient, InferenceClient };
export * as grpc from '@grpc/grpc-js';
