// Original file: proto/kiln/v1/registry.proto

import type { Model as _kiln_v1_Model, Model__Output as _kiln_v1_Model__Output } from '../../kiln/v1/Model';

export interface ListModelsResponse {
  'models'?: (_kiln_v1_Model)[];
  'nextPageToken'?: (string);
}

export interface ListModelsResponse__Output {
  'models': (_kiln_v1_Model__Output)[];
  'nextPageToken': (string);
}
