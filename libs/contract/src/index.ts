// Contract inference: which format a model's files are, and its contract read from that format's metadata, merged
// with the contract a manifest writes. The table below is the one place formats are listed.
import { invalidArgument } from '@kiln/errors';
import { parseManifest, payloadMatcher, type Manifest } from '@kiln/manifest';
import type { ContractFormat, FileEntry } from './format';
import type { ModelFiles } from './source';
import type { Contract, ContractSource, InferenceResult } from './types';
import { onnxFormat, onnxModelFiles } from './onnx';
import { savedModelFormat } from './savedmodel';
import { sparkFormat } from './spark';
import { kerasFormat, kerasModelFiles } from './keras';
import { contractFromManifest, hydrosphereContractFormat } from './manifest';
import { mergeContracts } from './merge';

export * from './types';
export * from './diff';
export type { ContractFormat, FileEntry } from './format';
export type { ModelFiles, RandomAccessFile } from './source';
export { localModelFiles } from './local-files';

/** Tried in order; the first whose detect() accepts the files reads them. A Hydrosphere contract.prototxt comes last:
 * it stands in for metadata only where a model has none of its own. */
export const FORMATS: readonly ContractFormat[] = [savedModelFormat, onnxFormat, kerasFormat, sparkFormat, hydrosphereContractFormat];

/** For the formats whose model is one file among others: every file that could be it. Several means the upload does
 * not say which model it is, so inference refuses to pick one (the manifest's payload can narrow them). */
const MODEL_FILE_CANDIDATES: Partial<Record<ContractSource, (files: FileEntry[]) => string[]>> = {
  onnx: onnxModelFiles,
  keras: kerasModelFiles,
};

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
 * metadata, several candidate model files, or a manifest that contradicts the model. */
export async function inferContract(files: ModelFiles, manifest?: string | Manifest | null): Promise<InferredContract> {
  const parsed = typeof manifest === 'string' ? (manifest ? parseManifest(manifest, 'manifest') : null) : manifest ?? null;
  const model = parsed?.payload ? payloadFiles(files, parsed) : files;
  const entries = await model.list();
  const format = detectFormat(entries);
  if (format) assertOneModelFile(format, entries, parsed !== null && parsed.payload !== null);
  const inferred: InferenceResult | null = format ? await format.infer(model) : null;
  // A model that declares no signatures (a SavedModel saved with signatures={}) tells nothing about how to call it:
  // the manifest's contract is the contract, as for formats with nothing to infer.
  const ownContract = inferred?.contract.signatures.length ? inferred.contract : null;
  const fromManifest = parsed ? contractFromManifest(parsed) : null;
  const contract = mergeContracts(ownContract, fromManifest);
  if (inferred && !ownContract && !fromManifest) {
    const file = inferred.metadata[`${format!.name}.file`] ?? format!.name;
    throw invalidArgument(
      'the model declares no signatures, so its contract cannot be inferred: write it under `contract:` in kiln.yaml',
      file,
    );
  }
  if (contract && !contract.signatures.length) throw invalidArgument('the contract has no signatures', 'contract');
  return { contract, metadata: inferred?.metadata ?? {}, format: format?.name ?? '' };
}

/** The files the manifest's payload selects (only they go into the image); opening by path stays unrestricted, so
 * files a model refers to (ONNX external data) resolve whether or not the payload lists them. */
function payloadFiles(files: ModelFiles, manifest: Manifest): ModelFiles {
  const selected = payloadMatcher(manifest);
  return {
    list: async () => (await files.list()).filter((f) => selected(f.path)),
    open: (p) => files.open(p),
  };
}

function assertOneModelFile(format: ContractFormat, entries: FileEntry[], hasPayload: boolean): void {
  const found = MODEL_FILE_CANDIDATES[format.name]?.(entries) ?? [];
  if (found.length <= 1) return;
  const fix = hasPayload ? "narrow kiln.yaml's payload to one of them" : "name the one to serve in kiln.yaml's payload";
  const message = `several ${format.name} model files (${found.join(', ')}): upload one model, or ${fix}`;
  throw invalidArgument(message, hasPayload ? 'payload' : undefined);
}
