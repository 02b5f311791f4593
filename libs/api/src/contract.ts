// Kiln's contract model (@kiln/contract/types) and the kiln.v1.Contract message. The model is the message's object
// form, which the compiler checks here, so a contract goes into a response as it is; a contract read from a response
// (the registry's from inference, the CLI's from the registry) is checked field by field on its way into the model.
import { KilnError } from '@kiln/errors';
import type { Contract, ContractSource, DataProfile, DataType, Field, Shape, ValueType } from '@kiln/contract/types';
import type { Contract as ContractMessage, Contract__Output } from '../generated/kiln/v1/Contract';
import type { Field__Output } from '../generated/kiln/v1/Field';
import type { ValueType__Output } from '../generated/kiln/v1/ValueType';
import type { Shape__Output } from '../generated/kiln/v1/Shape';
import type { DataType__Output } from '../generated/kiln/v1/DataType';
import type { DataProfile__Output } from '../generated/kiln/v1/DataProfile';

// Compile-time checks: every contract is a kiln.v1.Contract message, and the enums have the same names both ways.
// A change to the proto or the model that the other does not follow fails to compile here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const CONTRACT_MATCHES_PROTO = {
  contractIsMessage: true satisfies Contract extends ContractMessage ? true : false,
  dataTypes: true satisfies Same<DataType, DataType__Output>,
  dataProfiles: true satisfies Same<DataProfile, DataProfile__Output>,
} as const;

const SOURCES: readonly ContractSource[] = ['savedmodel', 'onnx', 'spark', 'keras', 'manifest'];

/** A received contract in the model, or INTERNAL naming the field a malformed one lacks. */
export function contractFromMessage(m: Contract__Output | null | undefined, where = 'contract'): Contract | null {
  if (!m) return null;
  const source = SOURCES.find((s) => s === m.source);
  if (!source) throw malformed(`${where}.source`, `unknown source "${m.source}"`);
  return {
    source,
    signatures: m.signatures.map((s, i) => {
      const at = `${where}.signatures[${i}]`;
      return {
        name: s.name,
        method: s.method,
        tags: [...s.tags],
        inputs: s.inputs.map((f, j) => field(f, `${at}.inputs[${j}]`)),
        outputs: s.outputs.map((f, j) => field(f, `${at}.outputs[${j}]`)),
      };
    }),
  };
}

function field(f: Field__Output, where: string): Field {
  return { name: f.name, profile: f.profile, ...valueType(f, where) };
}

function valueType(v: ValueType__Output | Field__Output, where: string): ValueType {
  switch (v.type) {
    case 'tensor': {
      const t = present(v.tensor, `${where}.tensor`);
      return { type: 'tensor', tensor: { dtype: t.dtype, shape: shape(t.shape) } };
    }
    case 'sparseTensor': {
      const t = present(v.sparseTensor, `${where}.sparse_tensor`);
      return { type: 'sparseTensor', sparseTensor: { dtype: t.dtype, shape: shape(t.shape) } };
    }
    case 'raggedTensor': {
      const t = present(v.raggedTensor, `${where}.ragged_tensor`);
      return { type: 'raggedTensor', raggedTensor: { dtype: t.dtype, shape: shape(t.shape), raggedRank: t.raggedRank, rowSplitsDtype: t.rowSplitsDtype } };
    }
    case 'sequence': {
      const s = present(v.sequence, `${where}.sequence`);
      return { type: 'sequence', sequence: { elementType: valueType(present(s.elementType, `${where}.sequence.element_type`), `${where}.sequence.element_type`) } };
    }
    case 'optional': {
      const o = present(v.optional, `${where}.optional`);
      return { type: 'optional', optional: { elementType: valueType(present(o.elementType, `${where}.optional.element_type`), `${where}.optional.element_type`) } };
    }
    case 'map': {
      const m = present(v.map, `${where}.map`);
      return { type: 'map', map: { keyType: m.keyType, valueType: valueType(present(m.valueType, `${where}.map.value_type`), `${where}.map.value_type`) } };
    }
    default:
      throw malformed(where, 'no type set');
  }
}

function shape(s: Shape__Output | null): Shape | null {
  return s ? { dims: s.dims.map((d) => ({ size: Number(d.size), name: d.name })) } : null;
}

function present<T>(value: T | null | undefined, where: string): T {
  if (value === null || value === undefined) throw malformed(where, 'missing');
  return value;
}

function malformed(where: string, what: string): KilnError {
  return new KilnError('INTERNAL', `a malformed contract was received: ${what}`, where);
}
