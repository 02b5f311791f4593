// Canonical proto3 JSON for kiln.v1 messages (what grpcurl prints): lowerCamelCase names, int64 as strings, enums
// by name, Timestamps as RFC 3339, default values omitted. Written here because proto-loader's objects are not that
// mapping and protobufjs's toJSON differs from it (Timestamps, int64, defaults); the walk uses protobufjs's own
// reflection of the same proto files, so it follows the API without a second copy of it.
import protobuf from 'protobufjs';
import { PROTO_FILES, PROTO_ROOT } from './index';

let root: protobuf.Root | undefined;
function kilnRoot(): protobuf.Root {
  if (!root) {
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : `${PROTO_ROOT}/${target}`);
    root.loadSync(PROTO_FILES, { keepCase: false });
    root.resolveAll();
  }
  return root;
}

/** The canonical proto3 JSON of a proto-loader object of type `typeName` (e.g. 'kiln.v1.ModelVersion'). */
export function toProto3Json(typeName: string, value: unknown): unknown {
  return messageJson(kilnRoot().lookupType(typeName), value as Record<string, unknown>);
}

function messageJson(type: protobuf.Type, value: Record<string, unknown> | null | undefined): unknown {
  if (value == null) return undefined;
  if (type.fullName === '.google.protobuf.Timestamp') return timestampJson(value);
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const v = value[field.name];
    if (v === undefined || v === null) continue;
    const inOneof = Boolean(field.partOf);
    if (field.map) {
      const entries = Object.entries(v as Record<string, unknown>);
      if (!entries.length) continue;
      out[field.name] = Object.fromEntries(entries.map(([k, x]) => [k, scalarOrMessage(field, x)]));
    } else if (field.repeated) {
      const list = v as unknown[];
      if (!list.length) continue;
      out[field.name] = list.map((x) => scalarOrMessage(field, x));
    } else {
      // Members of a oneof are present whenever they are set; other fields are dropped at their default.
      if (!inOneof && field.partOf === null && isDefault(field, v)) continue;
      if (inOneof && (value as Record<string, unknown>)[field.partOf!.name] !== field.name) continue;
      out[field.name] = scalarOrMessage(field, v);
    }
  }
  return out;
}

function scalarOrMessage(field: protobuf.Field, v: unknown): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return messageJson(resolved, v as Record<string, unknown>) ?? {};
  if (resolved instanceof protobuf.Enum) return typeof v === 'number' ? resolved.valuesById[v] ?? v : v;
  switch (field.type) {
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return String(v);
    case 'bytes':
      return Buffer.from(v as Uint8Array).toString('base64');
    case 'double':
    case 'float':
      return Number.isFinite(v as number) ? v : String(v);
    default:
      return v;
  }
}

function isDefault(field: protobuf.Field, v: unknown): boolean {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return false;
  if (resolved instanceof protobuf.Enum) return v === 0 || resolved.values[v as string] === 0;
  if (field.type === 'bytes') return (v as Uint8Array).length === 0;
  if (field.type === 'string') return v === '';
  if (field.type === 'bool') return v === false;
  return Number(v) === 0;
}

function timestampJson(value: Record<string, unknown>): string {
  const seconds = Number(value.seconds ?? 0);
  const nanos = Number(value.nanos ?? 0);
  const iso = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  if (!nanos) return `${iso}Z`;
  // Canonical form: 3, 6 or 9 fractional digits, as few as the value needs.
  const digits = nanos % 1_000_000 === 0 ? 3 : nanos % 1000 === 0 ? 6 : 9;
  return `${iso}.${String(nanos).padStart(9, '0').slice(0, digits)}Z`;
}
