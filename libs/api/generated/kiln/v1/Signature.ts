// Original file: proto/kiln/v1/contract.proto

import type { Field as _kiln_v1_Field, Field__Output as _kiln_v1_Field__Output } from '../../kiln/v1/Field';

export interface Signature {
  'name'?: (string);
  'method'?: (string);
  'inputs'?: (_kiln_v1_Field)[];
  'outputs'?: (_kiln_v1_Field)[];
  'tags'?: (string)[];
}

export interface Signature__Output {
  'name': (string);
  'method': (string);
  'inputs': (_kiln_v1_Field__Output)[];
  'outputs': (_kiln_v1_Field__Output)[];
  'tags': (string)[];
}
