// Original file: proto/kiln/v1/inference.proto

import type { ModelVersionReference as _kiln_v1_ModelVersionReference, ModelVersionReference__Output as _kiln_v1_ModelVersionReference__Output } from '../../kiln/v1/ModelVersionReference';

export interface InferContractRequest {
  'modelVersion'?: (_kiln_v1_ModelVersionReference | null);
  'path'?: (string);
  'manifest'?: (string);
  'source'?: "modelVersion"|"path";
}

export interface InferContractRequest__Output {
  'modelVersion'?: (_kiln_v1_ModelVersionReference__Output | null);
  'path'?: (string);
  'manifest': (string);
  'source'?: "modelVersion"|"path";
}
