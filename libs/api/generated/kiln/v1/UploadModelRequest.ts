// Original file: proto/kiln/v1/registry.proto

import type { UploadHeader as _kiln_v1_UploadHeader, UploadHeader__Output as _kiln_v1_UploadHeader__Output } from '../../kiln/v1/UploadHeader';

export interface UploadModelRequest {
  'header'?: (_kiln_v1_UploadHeader | null);
  'chunk'?: (Buffer | Uint8Array | string);
  'content'?: "header"|"chunk";
}

export interface UploadModelRequest__Output {
  'header'?: (_kiln_v1_UploadHeader__Output | null);
  'chunk'?: (Buffer);
  'content'?: "header"|"chunk";
}
