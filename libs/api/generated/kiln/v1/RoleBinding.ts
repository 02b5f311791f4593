// Original file: proto/kiln/v1/tokens.proto

import type { Role as _kiln_v1_Role, Role__Output as _kiln_v1_Role__Output } from '../../kiln/v1/Role';

export interface RoleBinding {
  'namespace'?: (string);
  'role'?: (_kiln_v1_Role);
}

export interface RoleBinding__Output {
  'namespace': (string);
  'role': (_kiln_v1_Role__Output);
}
