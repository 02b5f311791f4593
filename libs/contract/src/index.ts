// Contract inference: which format a model's files are, and its contract read from that format's metadata, merged
// with the contract a manifest writes. The table below is the one place formats are listed.
import { invalidArgument } from '@kiln/errors';
import { parseManifest, type Manifest } from '@kiln/manifest';
import type { ContractFormat } from './format';
import type { ModelFiles } from './source';
import type { Contract, InferenceResult } from './types';
import { onnxFormat } from './onnx';
import { savedModelFormat } from './savedmodel';
import { sparkFormat } from './spark';
import { kerasFormat } from './keras';
import { contractFromManifest } from './manifest';
import { mergeContracts } from './merge';

export * from './types';
export type { ContractFormat, FileEntry } from './format';
export type { ModelFiles, RandomAccessFile } from './source';
export { localModelFiles } from './local-files';

/** Tried in order; the first whose detect() accepts the files reads them. */
export const FORMATS: readonly ContractFormat[] = [savedModelFormat, onnxFormat, kerasFormat, sparkFormat];

export interface InferredContract {
  contract: Contract | null;
  metadata: Record<string, string>;
  /** The format the files were recognised as, or '' when none. */
  format: string;
}

export function detectFormat(files: Array<{ path: string; size: number }>): ContractFormat | null {
  return FORMATS.find((f) => f.detect(files)) ?? null;
}

/** The contract of the files, refined (or given) by the manifest. Throws INVALID_ARGUMENT for corrupt model
 * metadata or a manifest that contradicts it. */
export async function inferContract(files: ModelFiles, manifest?: string | Manifest | null): Promise<InferredContract> {
  const entries = await files.list();
  const format = detectFormat(entries);
  let inferred: InferenceResult | null = null;
  if (format) inferred = await format.infer(files);
  const parsed = typeof manifest === 'string' ? (manifest ? parseManifest(manifest, 'manifest') : null) : manifest ?? null;
  const fromManifest = parsed ? contractFromManifest(parsed) : null;
  const contract = mergeContracts(inferred?.contract ?? null, fromManifest);
  if (contract && !contract.signatures.length) throw invalidArgument('the contract has no signatures', 'contract');
  return { contract, metadata: inferred?.metadata ?? {}, format: format?.name ?? '' };
}
