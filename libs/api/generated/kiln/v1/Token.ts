// Original file: proto/kiln/v1/tokens.proto

import type { RoleBinding as _kiln_v1_RoleBinding, RoleBinding__Output as _kiln_v1_RoleBinding__Output } from '../../kiln/v1/RoleBinding';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface Token {
  'id'?: (string);
  'owner'?: (string);
  'bindings'?: (_kiln_v1_RoleBinding)[];
  'createTime'?: (_google_protobuf_Timestamp | null);
  'expireTime'?: (_google_protobuf_Timestamp | null);
  'lastUseTime'?: (_google_protobuf_Timestamp | null);
  'revokeTime'?: (_google_protobuf_Timestamp | null);
}

export interface Token__Output {
  'id': (string);
  'owner': (string);
  'bindings': (_kiln_v1_RoleBinding__Output)[];
  'createTime': (_google_protobuf_Timestamp__Output | null);
  'expireTime': (_google_protobuf_Timestamp__Output | null);
  'lastUseTime': (_google_protobuf_Timestamp__Output | null);
  'revokeTime': (_google_protobuf_Timestamp__Output | null);
}
