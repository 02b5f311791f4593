// Conversions between the registry's records and kiln.v1 messages (proto-loader object form).
import type { ModelVersion } from '@kiln/api/generated/kiln/v1/ModelVersion';
import type { Model } from '@kiln/api/generated/kiln/v1/Model';
import { toTimestamp } from '@kiln/api/timestamp';
import { invalidArgument } from '@kiln/errors';
import type { ModelRecord, VersionRecord } from './store';
import { STATUSES, type VersionStatus } from './lifecycle';

export function versionToProto(v: VersionRecord): ModelVersion {
  return {
    model: v.model,
    version: v.version,
    status: `MODEL_VERSION_STATUS_${v.status}`,
    failureReason: v.failureReason,
    createTime: toTimestamp(v.createTime),
    files: v.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256, executable: f.executable })),
    totalSize: v.totalSize,
    manifest: v.manifest,
    labels: v.labels,
    metadata: v.metadata,
    contract: v.contract,
    imageReference: v.imageReference,
    imageDigest: v.imageDigest,
    buildStartTime: toTimestamp(v.buildStartTime),
    buildEndTime: toTimestamp(v.buildEndTime),
    deleteTime: toTimestamp(v.deleteTime),
    runtime: v.runtime,
    aliases: v.aliases,
    description: v.description,
    excludedPaths: v.excludedPaths,
    excludedFileCount: v.excludedFileCount,
  };
}

export function modelToProto(m: ModelRecord): Model {
  return {
    name: m.name,
    latestVersion: m.latestVersion,
    versionCount: m.versionCount,
    createTime: toTimestamp(m.createTime),
    updateTime: toTimestamp(m.updateTime),
  };
}

const FROM_PROTO = new Map<string, VersionStatus>(STATUSES.map((s) => [`MODEL_VERSION_STATUS_${s}`, s]));

export function statusFromProto(status: string, where: string): VersionStatus {
  const s = FROM_PROTO.get(status);
  if (!s) throw invalidArgument(`${status} is not a status to filter by`, where);
  return s;
}

/** Page tokens are opaque to clients: base64url of the last key returned. */
export function encodePageToken(key: string | number): string {
  return Buffer.from(JSON.stringify({ k: key })).toString('base64url');
}

export function decodePageToken<T extends string | number>(token: string, kind: 'string' | 'number', where: string): T | undefined {
  if (!token) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed?.k === kind) return parsed.k as T;
  } catch {
    // fall through to the error below
  }
  throw invalidArgument('the page token is not one this service returned', where);
}

export function pageSize(requested: number, where: string): number {
  if (requested < 0) throw invalidArgument('page_size must not be negative', where);
  if (requested > 1000) throw invalidArgument('page_size is at most 1000', where);
  return requested || 50;
}
