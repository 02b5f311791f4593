// Original file: proto/kiln/v1/registry.proto

import type { ModelVersion as _kiln_v1_ModelVersion, ModelVersion__Output as _kiln_v1_ModelVersion__Output } from '../../kiln/v1/ModelVersion';

export interface ListModelVersionsResponse {
  'versions'?: (_kiln_v1_ModelVersion)[];
  'nextPageToken'?: (string);
}

export interface ListModelVersionsResponse__Output {
  'versions': (_kiln_v1_ModelVersion__Output)[];
  'nextPageToken': (string);
}
