// Original file: proto/kiln/v1/model.proto

export const ArchiveFormat = {
  ARCHIVE_FORMAT_UNSPECIFIED: 'ARCHIVE_FORMAT_UNSPECIFIED',
  ARCHIVE_FORMAT_TAR: 'ARCHIVE_FORMAT_TAR',
  ARCHIVE_FORMAT_TAR_GZ: 'ARCHIVE_FORMAT_TAR_GZ',
  ARCHIVE_FORMAT_FILE: 'ARCHIVE_FORMAT_FILE',
} as const;

export type ArchiveFormat =
  | 'ARCHIVE_FORMAT_UNSPECIFIED'
  | 0
  | 'ARCHIVE_FORMAT_TAR'
  | 1
  | 'ARCHIVE_FORMAT_TAR_GZ'
  | 2
  | 'ARCHIVE_FORMAT_FILE'
  | 3

export type ArchiveFormat__Output = typeof ArchiveFormat[keyof typeof ArchiveFormat]
