// Original file: proto/kiln/v1/builder.proto

import type { BuildLogLine as _kiln_v1_BuildLogLine, BuildLogLine__Output as _kiln_v1_BuildLogLine__Output } from '../../kiln/v1/BuildLogLine';
import type { BuildResult as _kiln_v1_BuildResult, BuildResult__Output as _kiln_v1_BuildResult__Output } from '../../kiln/v1/BuildResult';

export interface BuildModelVersionResponse {
  'log'?: (_kiln_v1_BuildLogLine | null);
  'result'?: (_kiln_v1_BuildResult | null);
  'event'?: "log"|"result";
}

export interface BuildModelVersionResponse__Output {
  'log'?: (_kiln_v1_BuildLogLine__Output | null);
  'result'?: (_kiln_v1_BuildResult__Output | null);
  'event'?: "log"|"result";
}
