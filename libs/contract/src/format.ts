// The one interface every framework format implements: adding a format is adding a module and a line in the table
// in index.ts.
import type { ContractSource, InferenceResult } from './types';
import type { ModelFiles } from './source';

export interface FileEntry {
  path: string;
  size: number;
}

export interface ContractFormat {
  /** The format's name, also Contract.source. */
  readonly name: ContractSource;
  /** Whether these files hold a model of this format (by names and sizes only; no reads). */
  detect(files: FileEntry[]): boolean;
  /** Reads the contract from the model's metadata, reading only what it needs. Errors are KilnError values with
   * code INVALID_ARGUMENT and a location naming the file (and offset, where it helps). */
  infer(files: ModelFiles): Promise<InferenceResult>;
}
