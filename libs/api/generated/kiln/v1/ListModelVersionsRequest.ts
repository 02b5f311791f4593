// Original file: proto/kiln/v1/registry.proto

import type { ModelVersionStatus as _kiln_v1_ModelVersionStatus, ModelVersionStatus__Output as _kiln_v1_ModelVersionStatus__Output } from '../../kiln/v1/ModelVersionStatus';

export interface ListModelVersionsRequest {
  'model'?: (string);
  'pageSize'?: (number);
  'pageToken'?: (string);
  'statuses'?: (_kiln_v1_ModelVersionStatus)[];
  'labels'?: ({[key: string]: string});
}

export interface ListModelVersionsRequest__Output {
  'model': (string);
  'pageSize': (number);
  'pageToken': (string);
  'statuses': (_kiln_v1_ModelVersionStatus__Output)[];
  'labels': ({[key: string]: string});
}
