// Original file: proto/kiln/v1/inference.proto

import type { ModelVersionReference as _kiln_v1_ModelVersionReference, ModelVersionReference__Output as _kiln_v1_ModelVersionReference__Output } from '../../kiln/v1/ModelVersionReference';
import type { StoredFiles as _kiln_v1_StoredFiles, StoredFiles__Output as _kiln_v1_StoredFiles__Output } from '../../kiln/v1/StoredFiles';

export interface InferContractRequest {
  'modelVersion'?: (_kiln_v1_ModelVersionReference | null);
  'path'?: (string);
  'manifest'?: (string);
  'storedFiles'?: (_kiln_v1_StoredFiles | null);
  'source'?: "modelVersion"|"path"|"storedFiles";
}

export interface InferContractRequest__Output {
  'modelVersion'?: (_kiln_v1_ModelVersionReference__Output | null);
  'path'?: (string);
  'manifest': (string);
  'storedFiles'?: (_kiln_v1_StoredFiles__Output | null);
  'source'?: "modelVersion"|"path"|"storedFiles";
}
