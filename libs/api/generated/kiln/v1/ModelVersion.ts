// Original file: proto/kiln/v1/model.proto

import type { ModelVersionStatus as _kiln_v1_ModelVersionStatus, ModelVersionStatus__Output as _kiln_v1_ModelVersionStatus__Output } from '../../kiln/v1/ModelVersionStatus';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { ModelFile as _kiln_v1_ModelFile, ModelFile__Output as _kiln_v1_ModelFile__Output } from '../../kiln/v1/ModelFile';
import type { Contract as _kiln_v1_Contract, Contract__Output as _kiln_v1_Contract__Output } from '../../kiln/v1/Contract';
import type { Long } from '@grpc/proto-loader';

export interface ModelVersion {
  'model'?: (string);
  'version'?: (number | string | Long);
  'status'?: (_kiln_v1_ModelVersionStatus);
  'failureReason'?: (string);
  'createTime'?: (_google_protobuf_Timestamp | null);
  'files'?: (_kiln_v1_ModelFile)[];
  'totalSize'?: (number | string | Long);
  'manifest'?: (string);
  'labels'?: ({[key: string]: string});
  'metadata'?: ({[key: string]: string});
  'contract'?: (_kiln_v1_Contract | null);
  'imageReference'?: (string);
  'imageDigest'?: (string);
  'buildStartTime'?: (_google_protobuf_Timestamp | null);
  'buildEndTime'?: (_google_protobuf_Timestamp | null);
  'deleteTime'?: (_google_protobuf_Timestamp | null);
  'runtime'?: (string);
  'aliases'?: (string)[];
  'description'?: (string);
  'excludedPaths'?: (string)[];
  'excludedFileCount'?: (number | string | Long);
}

export interface ModelVersion__Output {
  'model': (string);
  'version': (number);
  'status': (_kiln_v1_ModelVersionStatus__Output);
  'failureReason': (string);
  'createTime': (_google_protobuf_Timestamp__Output | null);
  'files': (_kiln_v1_ModelFile__Output)[];
  'totalSize': (number);
  'manifest': (string);
  'labels': ({[key: string]: string});
  'metadata': ({[key: string]: string});
  'contract': (_kiln_v1_Contract__Output | null);
  'imageReference': (string);
  'imageDigest': (string);
  'buildStartTime': (_google_protobuf_Timestamp__Output | null);
  'buildEndTime': (_google_protobuf_Timestamp__Output | null);
  'deleteTime': (_google_protobuf_Timestamp__Output | null);
  'runtime': (string);
  'aliases': (string)[];
  'description': (string);
  'excludedPaths': (string)[];
  'excludedFileCount': (number);
}
