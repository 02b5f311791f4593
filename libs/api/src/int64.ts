// int64 fields of requests, checked before any handler sees them. proto-loader (LOADER_OPTIONS' longs: Number) reads
// an int64 as a JS number: exact up to 2^53 - 1, rounded beyond (9007199254740993 arrives as ...992, 2^63 - 1 as a
// number no bigint column holds). Every value past 2^53 - 1 arrives as an integer Number.isSafeInteger refuses, so
// that test finds exactly the values that were not read exactly: they are INVALID_ARGUMENT naming the field, rather
// than a lookup of another number or a database error.
import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition, PackageDefinition } from '@grpc/proto-loader';
import { invalidArgument } from '@kiln/errors';
import { packageDefinition } from './index';

/** Throws INVALID_ARGUMENT when a request's int64 field holds what a JS number cannot hold exactly. */
export type RequestCheck = (request: unknown) => void;

interface FieldDescriptor {
  name: string;
  type: string;
  typeName: string;
  label: string;
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
}

type Walk = (message: Record<string, unknown>, where: string) => void;

const walks = new Map<string, Walk | null>();

/** The check of a method's request messages, or undefined when they hold no int64 anywhere. */
export function requestCheck(method: grpc.MethodDefinition<unknown, unknown>): RequestCheck | undefined {
  const type = (method as { requestType?: MessageTypeDefinition<unknown, unknown> }).requestType?.type as MessageDescriptor | undefined;
  if (!type) return undefined;
  // The path is /package.Service/Method; the request type is named relative to the package.
  const pkg = method.path.slice(1, method.path.indexOf('/', 1)).split('.').slice(0, -1).join('.');
  const walk = walkOf(`${pkg}.${type.name}`);
  if (!walk) return undefined;
  return (request) => {
    if (request && typeof request === 'object') walk(request as Record<string, unknown>, type.name);
  };
}

function descriptorOf(definitions: PackageDefinition, fullName: string): MessageDescriptor | undefined {
  const entry = definitions[fullName] as MessageTypeDefinition<unknown, unknown> | undefined;
  return entry && 'type' in entry && entry.format?.includes('DescriptorProto') ? (entry.type as MessageDescriptor) : undefined;
}

/** A message field's type by the name its descriptor gives (relative to the enclosing scopes, or full). */
function resolve(definitions: PackageDefinition, scope: string, typeName: string): string | undefined {
  for (let s = scope; s; s = s.slice(0, Math.max(0, s.lastIndexOf('.')))) {
    if (descriptorOf(definitions, `${s}.${typeName}`)) return `${s}.${typeName}`;
  }
  return descriptorOf(definitions, typeName) ? typeName : undefined;
}

/** Whether an int64 is reachable from the message (cycles, as in the contract's types, are followed once). */
function holdsInt64(definitions: PackageDefinition, fullName: string, seen = new Set<string>()): boolean {
  if (seen.has(fullName)) return false;
  seen.add(fullName);
  const descriptor = descriptorOf(definitions, fullName);
  if (!descriptor) return false;
  const scope = fullName.slice(0, fullName.lastIndexOf('.'));
  return descriptor.field.some((f) => {
    if (f.type === 'TYPE_INT64') return true;
    if (f.type !== 'TYPE_MESSAGE') return false;
    const nested = resolve(definitions, scope, f.typeName);
    return nested !== undefined && holdsInt64(definitions, nested, seen);
  });
}

function walkOf(fullName: string): Walk | undefined {
  if (walks.has(fullName)) return walks.get(fullName) ?? undefined;
  const definitions = packageDefinition();
  const descriptor = descriptorOf(definitions, fullName);
  if (!descriptor || !holdsInt64(definitions, fullName)) {
    walks.set(fullName, null);
    return undefined;
  }
  const scope = fullName.slice(0, fullName.lastIndexOf('.'));
  const fields = descriptor.field.flatMap((f): Array<{ key: string; label: string; repeated: boolean; nested?: string }> => {
    const label = f.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`); // the proto's own snake_case name
    const repeated = f.label === 'LABEL_REPEATED';
    if (f.type === 'TYPE_INT64') return [{ key: f.name, label, repeated, nested: undefined }];
    const nested = f.type === 'TYPE_MESSAGE' ? resolve(definitions, scope, f.typeName) : undefined;
    return nested && holdsInt64(definitions, nested) ? [{ key: f.name, label, repeated, nested }] : [];
  });
  // On every call (GetModelVersion's hot path included): no allocation unless there is something to look into.
  const walk: Walk = (message, where) => {
    for (const field of fields) {
      const value = message[field.key];
      if (value === undefined || value === null) continue;
      if (!field.repeated) visit(field, value, where, -1);
      else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) visit(field, value[i], where, i);
    }
  };
  const visit = (field: (typeof fields)[number], value: unknown, where: string, index: number) => {
    if (!field.nested) {
      if (typeof value === 'number' && !Number.isSafeInteger(value)) throw outOfRange(at(where, field.label, index));
    } else if (typeof value === 'object') {
      walkOf(field.nested)?.(value as Record<string, unknown>, at(where, field.label, index));
    }
  };
  walks.set(fullName, walk);
  return walk;
}

const at = (where: string, label: string, index: number) => `${where}.${label}${index < 0 ? '' : `[${index}]`}`;

function outOfRange(where: string) {
  return invalidArgument(
    `out of range: Kiln takes whole numbers from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER} (2^53 - 1) in int64 fields`,
    where,
  );
}
