// Original file: proto/kiln/v1/diff.proto

import type { ChangeSeverity as _kiln_v1_ChangeSeverity, ChangeSeverity__Output as _kiln_v1_ChangeSeverity__Output } from '../../kiln/v1/ChangeSeverity';

export interface ContractChange {
  'severity'?: (_kiln_v1_ChangeSeverity);
  'kind'?: (string);
  'path'?: (string);
  'message'?: (string);
  'before'?: (string);
  'after'?: (string);
}

export interface ContractChange__Output {
  'severity': (_kiln_v1_ChangeSeverity__Output);
  'kind': (string);
  'path': (string);
  'message': (string);
  'before': (string);
  'after': (string);
}
