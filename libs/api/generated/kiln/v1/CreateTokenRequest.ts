// Original file: proto/kiln/v1/tokens.proto

import type { RoleBinding as _kiln_v1_RoleBinding, RoleBinding__Output as _kiln_v1_RoleBinding__Output } from '../../kiln/v1/RoleBinding';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface CreateTokenRequest {
  'owner'?: (string);
  'bindings'?: (_kiln_v1_RoleBinding)[];
  'expireTime'?: (_google_protobuf_Timestamp | null);
}

export interface CreateTokenRequest__Output {
  'owner': (string);
  'bindings': (_kiln_v1_RoleBinding__Output)[];
  'expireTime': (_google_protobuf_Timestamp__Output | null);
}
