// Human-readable output of versions, models and contracts for the terminal (--json prints proto3 JSON instead).
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import type { Model__Output } from '@kiln/api/generated/kiln/v1/Model';
import type { Contract, Field, ValueType } from '@kiln/contract/types';
import { fromTimestamp } from '@kiln/api/timestamp';
import { contractFromMessage } from '@kiln/api/contract';
import { formatBytes } from '@kiln/std';

function time(t: { seconds: number; nanos: number } | null | undefined): string {
  return fromTimestamp(t)?.toISOString() ?? '-';
}

export const statusName = (s: string) => s.replace('MODEL_VERSION_STATUS_', '');

function dtypeName(dtype: string): string {
  return dtype.replace('DATA_TYPE_', '').toLowerCase();
}

function typeString(t: ValueType): string {
  switch (t.type) {
    case 'tensor':
    case 'sparseTensor':
    case 'raggedTensor': {
      const tt = t.type === 'tensor' ? t.tensor : t.type === 'sparseTensor' ? t.sparseTensor : t.raggedTensor;
      // A named dim a manifest fixed shows both (`batch=8`): neither alone says what the model takes.
      const dimText = (d: { name: string; size: number }) => (d.name ? (d.size >= 0 ? `${d.name}=${d.size}` : d.name) : d.size < 0 ? '?' : String(d.size));
      const shape = tt.shape ? `[${tt.shape.dims.map(dimText).join(', ')}]` : '[...]';
      const kind = t.type === 'tensor' ? '' : t.type === 'sparseTensor' ? 'sparse ' : 'ragged ';
      return `${kind}${dtypeName(tt.dtype)}${shape}`;
    }
    case 'sequence':
      return `sequence<${typeString(t.sequence.elementType)}>`;
    case 'map':
      return `map<${dtypeName(t.map.keyType)}, ${typeString(t.map.valueType)}>`;
    case 'optional':
      return `optional<${typeString(t.optional.elementType)}>`;
  }
}

function fieldLine(f: Field): string {
  const profile = f.profile && f.profile !== 'DATA_PROFILE_UNSPECIFIED' ? `  (${f.profile.replace('DATA_PROFILE_', '').toLowerCase()})` : '';
  return `    ${f.name}: ${typeString(f)}${profile}`;
}

export function contractText(contract: Contract | null | undefined): string {
  if (!contract || !contract.signatures?.length) return '  (none inferred; write one in kiln.yaml)';
  const lines = [`  source: ${contract.source}`];
  for (const s of contract.signatures) {
    const tags = s.tags?.length ? ` [${s.tags.join(',')}]` : '';
    lines.push(`  signature ${s.name}${s.method ? ` (${s.method})` : ''}${tags}`);
    lines.push('   inputs:', ...s.inputs.map(fieldLine));
    lines.push('   outputs:', ...s.outputs.map(fieldLine));
  }
  return lines.join('\n');
}

export function versionText(v: ModelVersion__Output): string {
  const lines = [
    `${v.model}:${v.version}  ${statusName(String(v.status))}${v.failureReason ? `: ${v.failureReason}` : ''}`,
    `  created:  ${time(v.createTime)}`,
    `  size:     ${formatBytes(Number(v.totalSize))} in ${v.files.length} file(s)`,
  ];
  if (v.aliases?.length) lines.push(`  aliases:  ${v.aliases.join(', ')}`);
  if (v.description) lines.push(`  about:    ${v.description}`);
  if (v.runtime) lines.push(`  runtime:  ${v.runtime}`);
  const noImage = statusName(String(v.status)) === 'FAILED' ? 'no image (build failed)' : statusName(String(v.status)) === 'DELETED' ? 'no image (deleted)' : '(not built yet)';
  lines.push(`  image:    ${v.imageReference ? `${v.imageReference}${v.imageDigest ? `@${v.imageDigest}` : ''}` : noImage}`);
  if (Object.keys(v.labels).length) lines.push(`  labels:   ${Object.entries(v.labels).map(([k, x]) => `${k}=${x}`).join(', ')}`);
  if (Object.keys(v.metadata).length) {
    lines.push('  metadata:', ...Object.entries(v.metadata).sort().map(([k, x]) => `    ${k}: ${x}`));
  }
  const leftOut = Number(v.excludedFileCount ?? 0);
  if (leftOut) {
    const more = leftOut > v.excludedPaths.length ? `, and ${leftOut - v.excludedPaths.length} more` : '';
    lines.push(`  left out: ${leftOut} file(s) outside the manifest's payload, not stored: ${v.excludedPaths.join(', ')}${more}`);
  }
  lines.push('  files:');
  for (const f of v.files) lines.push(`    ${f.sha256.slice(0, 12)}  ${formatBytes(Number(f.size)).padStart(10)}  ${f.path}`);
  // Nested one level under its heading.
  lines.push('  contract:', contractText(contractFromMessage(v.contract)).replace(/^/gm, '  '));
  return lines.join('\n');
}

export function versionRow(v: ModelVersion__Output): string {
  return `${String(v.version).padStart(6)}  ${statusName(String(v.status)).padEnd(9)}  ${time(v.createTime)}  ${formatBytes(Number(v.totalSize)).padStart(10)}  ${v.imageReference || '-'}`;
}

export function modelRow(m: Model__Output): string {
  return `${m.name.padEnd(32)}  ${String(m.versionCount).padStart(8)}  ${String(m.latestVersion).padStart(6)}  ${time(m.updateTime)}`;
}

/** Where `kiln watch` writes its human output: stderr, or a test's stand-in. */
export interface TextOut {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Return to the line's start and erase it, so a shorter line leaves none of a longer one behind. */
const CLEAR_LINE = '\r\x1b[2K';
const FRAMES = ['|', '/', '-', '\\'];

/**
 * The human view of a watch: status changes and build log lines, one per line, with a spinner on the line below
 * them while the build runs, only on a terminal (a pipe or a file gets the plain lines, no control characters).
 */
export class WatchView {
  private frame = 0;
  /** `model:version status`, beside the spinner. */
  private current = '';
  private timer?: NodeJS.Timeout;
  private readonly spin: boolean;

  constructor(private readonly out: TextOut) {
    this.spin = Boolean(out.isTTY);
  }

  start(): void {
    if (this.spin) this.timer = setInterval(() => this.tick(), 120);
  }

  /** Draws the next spinner frame over the previous one. */
  tick(): void {
    if (this.spin) this.out.write(`${CLEAR_LINE}${FRAMES[this.frame++ % FRAMES.length]} ${this.current}`);
  }

  versionChanged(v: ModelVersion__Output): void {
    this.current = `${v.model}:${v.version} ${statusName(String(v.status))}`;
    this.line(this.current);
  }

  logLine(line: string): void {
    this.line(`  | ${line}`);
  }

  /** Stops the spinner and erases its line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.spin) this.out.write(CLEAR_LINE);
  }

  private line(text: string): void {
    this.out.write(`${this.spin ? CLEAR_LINE : ''}${text}\n`);
  }
}
