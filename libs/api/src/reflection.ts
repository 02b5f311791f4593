// The package definition server reflection serves (grpcurl, grpcui, Postman): the kiln.v1 protos with their proto
// field names, plus grpc.health.v1, with each file descriptor's imports filled in so clients can resolve every type.
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { LOADER_OPTIONS, PROTO_FILES, PROTO_ROOT, toGrpcError } from './index';

interface FileDescriptor {
  name: string;
  package?: string;
  dependency: string[];
  messageType?: MessageDescriptor[];
  service?: Array<{ method?: Array<{ inputType?: string; outputType?: string }> }>;
}
interface MessageDescriptor {
  name: string;
  field?: Array<{ name: string; typeName?: string; jsonName?: string }>;
  nestedType?: MessageDescriptor[];
  options?: { mapEntry?: boolean };
}

const FileDescriptorProto = (descriptor as unknown as {
  FileDescriptorProto: { decode(b: Uint8Array): FileDescriptor; encode(f: FileDescriptor): { finish(): Uint8Array } };
}).FileDescriptorProto;

let cached: protoLoader.PackageDefinition | undefined;

/**
 * proto-loader regroups types into one synthetic file per package (kiln_v1.proto, google_protobuf.proto) and drops
 * the imports between them, so grpcurl cannot resolve google.protobuf.Timestamp from kiln.v1.ModelVersion. This
 * loads the protos keeping proto field names (what protoc-based clients expect, e.g. `name_prefix`) and adds to
 * every file the files its fields and methods refer to. protobufjs also names a map's implicit entry message after
 * the field ("Labels") where protoc, and so protodesc in grpcurl, require "LabelsEntry": those are renamed. And
 * json_name is filled in as protoc does, or grpcurl prints proto names (create_time) instead of proto3 JSON's.
 */
export function reflectionPackageDefinition(): protoLoader.PackageDefinition {
  if (cached) return cached;
  const def = protoLoader.loadSync([...PROTO_FILES, healthProtoPath], {
    ...LOADER_OPTIONS,
    keepCase: true,
    includeDirs: [PROTO_ROOT, path.dirname(healthProtoPath)],
  });
  const files = new Map<string, FileDescriptor>();
  for (const value of Object.values(def)) {
    for (const bin of (value as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos ?? []) {
      const file = FileDescriptorProto.decode(bin);
      if (!files.has(file.name)) files.set(file.name, file);
    }
  }
  // Which file defines each package's types (one file per package after proto-loader's regrouping).
  const fileOfPackage = new Map<string, string>();
  for (const f of files.values()) fileOfPackage.set(f.package ?? '', f.name);
  const packageOf = (typeName: string): string | undefined => {
    // '.google.protobuf.Timestamp' -> the longest known package that prefixes it.
    const parts = typeName.replace(/^\./, '').split('.');
    for (let i = parts.length - 1; i > 0; i--) {
      const pkg = parts.slice(0, i).join('.');
      if (fileOfPackage.has(pkg)) return pkg;
    }
    return undefined;
  };
  const encoded = new Map<string, Buffer>();
  for (const f of files.values()) {
    const refs = new Set<string>();
    const visit = (m: MessageDescriptor, scope: string) => {
      const fqn = `${scope}.${m.name}`;
      for (const nested of m.nestedType ?? []) {
        if (!nested.options?.mapEntry) continue;
        const field = m.field?.find((x) => x.typeName === nested.name || x.typeName === `${fqn}.${nested.name}`);
        if (!field) continue;
        nested.name = `${mapEntryName(field.name)}`;
        field.typeName = `${fqn}.${nested.name}`;
      }
      for (const field of m.field ?? []) {
        if (field.typeName) refs.add(field.typeName);
        field.jsonName ||= jsonName(field.name);
      }
      for (const nested of m.nestedType ?? []) visit(nested, fqn);
    };
    for (const m of f.messageType ?? []) visit(m, f.package ? `.${f.package}` : '');
    for (const s of f.service ?? []) for (const m of s.method ?? []) for (const t of [m.inputType, m.outputType]) if (t) refs.add(t);
    const deps = new Set(f.dependency ?? []);
    for (const ref of refs) {
      const pkg = packageOf(ref);
      const file = pkg !== undefined ? fileOfPackage.get(pkg) : undefined;
      if (file && file !== f.name) deps.add(file);
    }
    f.dependency = [...deps].sort();
    encoded.set(f.name, Buffer.from(FileDescriptorProto.encode(f).finish()));
  }
  const patched = [...encoded.values()];
  for (const value of Object.values(def)) {
    const v = value as { fileDescriptorProtos?: Buffer[] };
    if (Array.isArray(v.fileDescriptorProtos)) v.fileDescriptorProtos = patched;
  }
  cached = def;
  return def;
}

/** protoc's name for a map field's entry message: the field name in CamelCase, plus "Entry". */
function mapEntryName(field: string): string {
  return `${field.replace(/(^|_)([a-z0-9])/g, (_m, _u, c: string) => c.toUpperCase())}Entry`;
}

/** protoc's json_name: underscores dropped, the letter after each one capitalised. */
function jsonName(field: string): string {
  return field.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

type ReflectionHandlers = Record<string, grpc.UntypedHandleCall>;
let reflectionDefinitions: Array<[string, grpc.ServiceDefinition]> | undefined;

/** Decides whether a reflection call may go on (authentication, when reflection is restricted). */
export type ReflectionGuard = (metadata: grpc.Metadata, peer: string) => Promise<unknown>;

/**
 * Adds server reflection (v1 and v1alpha) for `services` to a server, built at its first call. @grpc/reflection's
 * service indexes every file descriptor, twice, and loads its own protos, for each server it is added to: with three
 * servers in one process, a good part of a start (bench/README.md, "Measurements behind code choices"), spent for
 * clients (grpcurl, grpcui) that most servers never see. Its two service definitions are read once per process,
 * from a reflection service over no files.
 */
export function addLazyReflection(server: Pick<grpc.Server, 'addService'>, services: string[], guard?: ReflectionGuard): void {
  reflectionDefinitions ??= capture(new ReflectionService({}, {})).map(([, definition, name]) => [name, definition]);
  let handlers: Map<string, ReflectionHandlers> | undefined;
  const real = (name: string) => {
    handlers ??= new Map(capture(new ReflectionService(reflectionPackageDefinition(), { services })).map(([impl, , n]) => [n, impl]));
    return handlers.get(name)!;
  };
  for (const [name, definition] of reflectionDefinitions) {
    const methods = Object.keys(definition);
    const serve = (m: string, call: unknown) => (real(name)[m] as (c: unknown) => void)(call);
    const guarded = (m: string, call: grpc.ServerDuplexStream<unknown, unknown>) =>
      guard!(call.metadata, call.getPeer()).then(() => serve(m, call), (err) => call.emit('error', toGrpcError(err)));
    server.addService(definition, Object.fromEntries(methods.map((m) => [m, ((call: grpc.ServerDuplexStream<unknown, unknown>) =>
      guard ? void guarded(m, call) : serve(m, call)) as grpc.UntypedHandleCall])));
  }
}

/** The services a ReflectionService would add to a server: implementation, definition, and a name for the pair. */
function capture(reflection: ReflectionService): Array<[ReflectionHandlers, grpc.ServiceDefinition, string]> {
  const added: Array<[ReflectionHandlers, grpc.ServiceDefinition, string]> = [];
  reflection.addToServer({
    addService: (definition: grpc.ServiceDefinition, impl: ReflectionHandlers) => {
      const first = Object.values(definition)[0] as { path: string };
      added.push([impl, definition, first.path.slice(1, first.path.lastIndexOf('/'))]);
    },
  } as unknown as grpc.Server);
  return added;
}
