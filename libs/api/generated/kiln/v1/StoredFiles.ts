// Original file: proto/kiln/v1/inference.proto

import type { ModelFile as _kiln_v1_ModelFile, ModelFile__Output as _kiln_v1_ModelFile__Output } from '../../kiln/v1/ModelFile';

export interface StoredFiles {
  'files'?: (_kiln_v1_ModelFile)[];
}

export interface StoredFiles__Output {
  'files': (_kiln_v1_ModelFile__Output)[];
}
