// Original file: proto/kiln/v1/registry.proto

import type { ModelVersion as _kiln_v1_ModelVersion, ModelVersion__Output as _kiln_v1_ModelVersion__Output } from '../../kiln/v1/ModelVersion';
import type { BuildLogLine as _kiln_v1_BuildLogLine, BuildLogLine__Output as _kiln_v1_BuildLogLine__Output } from '../../kiln/v1/BuildLogLine';

export interface WatchModelVersionResponse {
  'version'?: (_kiln_v1_ModelVersion | null);
  'log'?: (_kiln_v1_BuildLogLine | null);
  'event'?: "version"|"log";
}

export interface WatchModelVersionResponse__Output {
  'version'?: (_kiln_v1_ModelVersion__Output | null);
  'log'?: (_kiln_v1_BuildLogLine__Output | null);
  'event'?: "version"|"log";
}
