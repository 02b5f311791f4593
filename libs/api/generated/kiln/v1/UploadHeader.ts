// Original file: proto/kiln/v1/registry.proto

import type { ArchiveFormat as _kiln_v1_ArchiveFormat, ArchiveFormat__Output as _kiln_v1_ArchiveFormat__Output } from '../../kiln/v1/ArchiveFormat';
import type { Long } from '@grpc/proto-loader';

export interface UploadHeader {
  'model'?: (string);
  'manifest'?: (string);
  'labels'?: ({[key: string]: string});
  'metadata'?: ({[key: string]: string});
  'format'?: (_kiln_v1_ArchiveFormat);
  'fileName'?: (string);
  'expectedSize'?: (number | string | Long);
}

export interface UploadHeader__Output {
  'model': (string);
  'manifest': (string);
  'labels': ({[key: string]: string});
  'metadata': ({[key: string]: string});
  'format': (_kiln_v1_ArchiveFormat__Output);
  'fileName': (string);
  'expectedSize': (number);
}
