// The google.rpc.Status a failed call carries in its grpc-status-details-bin trailer: where a KilnError has a location
// (`inputs[2].shape`), a google.rpc.BadRequest detail names it as a field violation, for clients to read without
// parsing the message.
import protobuf from 'protobufjs';

/** Trailer that gRPC clients (grpc-go's status.FromError, grpcio-status, connect) read a google.rpc.Status from. */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
export const BAD_REQUEST_TYPE_URL = 'type.googleapis.com/google.rpc.BadRequest';

// No google/rpc protos ship in node_modules (proto-loader bundles only google/protobuf), so the three messages are
// declared here, field numbers as in googleapis' google/rpc/status.proto and error_details.proto; protobufjs encodes.
const root = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: { nested: { Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } } } },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: 'int32', id: 1 },
                message: { type: 'string', id: 2 },
                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
              },
            },
            BadRequest: {
              fields: { field_violations: { rule: 'repeated', type: 'FieldViolation', id: 1 } },
              nested: {
                FieldViolation: { fields: { field: { type: 'string', id: 1 }, description: { type: 'string', id: 2 } } },
              },
            },
          },
        },
      },
    },
  },
});
const StatusType = root.lookupType('google.rpc.Status');
const BadRequestType = root.lookupType('google.rpc.BadRequest');

export interface FieldViolation {
  field: string;
  description: string;
}

export interface StatusDetails {
  code: number;
  message: string;
  /** The BadRequest detail's violations (none when the status has no BadRequest). */
  fieldViolations: FieldViolation[];
}

/** A google.rpc.Status with one BadRequest detail, serialized for the grpc-status-details-bin trailer. */
export function encodeStatusDetails(code: number, message: string, violations: FieldViolation[]): Buffer {
  const badRequest = BadRequestType.encode(BadRequestType.fromObject({ field_violations: violations })).finish();
  const status = StatusType.fromObject({ code, message, details: [{ type_url: BAD_REQUEST_TYPE_URL, value: badRequest }] });
  return Buffer.from(StatusType.encode(status).finish());
}

/** The status in a grpc-status-details-bin trailer, with its BadRequest violations. */
export function decodeStatusDetails(bytes: Uint8Array): StatusDetails {
  const status = StatusType.toObject(StatusType.decode(bytes), { defaults: true }) as {
    code: number;
    message: string;
    details: Array<{ type_url: string; value: Uint8Array }>;
  };
  const fieldViolations: FieldViolation[] = [];
  for (const detail of status.details) {
    if (detail.type_url !== BAD_REQUEST_TYPE_URL) continue;
    const badRequest = BadRequestType.toObject(BadRequestType.decode(detail.value), { defaults: true }) as {
      field_violations: FieldViolation[];
    };
    fieldViolations.push(...badRequest.field_violations);
  }
  return { code: status.code, message: status.message, fieldViolations };
}

/** The status details a failed call's error carries (grpc-js puts the trailers in its metadata), if any. */
export function statusDetailsOf(err: unknown): StatusDetails | undefined {
  const metadata = (err as { metadata?: { get(key: string): unknown[] } } | null)?.metadata;
  const value = metadata?.get?.(STATUS_DETAILS_KEY)?.[0];
  return Buffer.isBuffer(value) ? decodeStatusDetails(value) : undefined;
}
