// Original file: proto/kiln/v1/registry.proto


export interface ListModelsRequest {
  'pageSize'?: (number);
  'pageToken'?: (string);
  'namePrefix'?: (string);
  'namespace'?: (string);
}

export interface ListModelsRequest__Output {
  'pageSize': (number);
  'pageToken': (string);
  'namePrefix': (string);
  'namespace': (string);
}
