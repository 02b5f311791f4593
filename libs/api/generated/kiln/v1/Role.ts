// Original file: proto/kiln/v1/tokens.proto

export const Role = {
  ROLE_UNSPECIFIED: 'ROLE_UNSPECIFIED',
  ROLE_READER: 'ROLE_READER',
  ROLE_WRITER: 'ROLE_WRITER',
  ROLE_MAINTAINER: 'ROLE_MAINTAINER',
  ROLE_ADMIN: 'ROLE_ADMIN',
} as const;

export type Role =
  | 'ROLE_UNSPECIFIED'
  | 0
  | 'ROLE_READER'
  | 1
  | 'ROLE_WRITER'
  | 2
  | 'ROLE_MAINTAINER'
  | 3
  | 'ROLE_ADMIN'
  | 4

export type Role__Output = typeof Role[keyof typeof Role]
