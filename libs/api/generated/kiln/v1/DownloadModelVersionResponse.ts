// Original file: proto/kiln/v1/registry.proto


export interface DownloadModelVersionResponse {
  'chunk'?: (Buffer | Uint8Array | string);
}

export interface DownloadModelVersionResponse__Output {
  'chunk': (Buffer);
}
