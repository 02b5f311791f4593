// diffContracts: one row per rule (and the recursive, ordering and null cases), each giving two contracts and the
// exact changes expected; every kind in RULES has a row, and the README's table is RULES.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { diffContracts, RULES, rulesTable, type ChangeKind, type DiffOptions } from './diff';
import { dim, field, tensor, unknownDim, type Contract, type DataType, type Field, type Signature, type ValueType } from './types';

// --- building contracts ---

/** Dims as numbers (-1 unknown) or names (an unknown dim with that symbolic name); null for unknown rank. */
type Dims = Array<number | string> | null;
const dims = (d: Array<number | string>) => d.map((x) => (typeof x === 'number' ? dim(x) : unknownDim(x)));
const t = (dtype: DataType, d: Dims): ValueType => tensor(dtype, d && dims(d));
const f32 = (d: Dims) => t('DATA_TYPE_FLOAT', d);
const seq = (elementType: ValueType): ValueType => ({ type: 'sequence', sequence: { elementType } });
const map = (keyType: DataType, valueType: ValueType): ValueType => ({ type: 'map', map: { keyType, valueType } });
const opt = (elementType: ValueType): ValueType => ({ type: 'optional', optional: { elementType } });
const sparse = (dtype: DataType, d: Dims): ValueType => ({ type: 'sparseTensor', sparseTensor: { dtype, shape: d && { dims: dims(d) } } });
const ragged = (dtype: DataType, d: Dims, raggedRank = 1, rowSplitsDtype: DataType = 'DATA_TYPE_INT64'): ValueType => ({
  type: 'raggedTensor',
  raggedTensor: { dtype, shape: d && { dims: dims(d) }, raggedRank, rowSplitsDtype },
});

const sig = (name: string, inputs: Field[], outputs: Field[], extra: Partial<Signature> = {}): Signature => ({
  name,
  method: '',
  inputs,
  outputs,
  tags: [],
  ...extra,
});
const contract = (...signatures: Signature[]): Contract => ({ source: 'onnx', signatures });
/** One serving_default signature. */
const io = (inputs: Field[], outputs: Field[] = [field('y', f32([-1, 10]))]): Contract => contract(sig('serving_default', inputs, outputs));
/** serving_default with input x of the given type, output y float[-1, 10]. */
const input = (type: ValueType): Contract => io([field('x', type)]);
/** serving_default with input x float[-1, 28], output y of the given type. */
const output = (type: ValueType): Contract => io([field('x', f32([-1, 28]))], [field('y', type)]);

const SD = 'signatures["serving_default"]';
const X = `${SD}.inputs["x"]`;
const Y = `${SD}.outputs["y"]`;

// --- the table ---

interface Expected {
  kind: ChangeKind;
  path: string;
  before?: string;
  after?: string;
}

interface Row {
  name: string;
  before: Contract | null;
  after: Contract | null;
  options?: DiffOptions;
  changes: Expected[];
  /** When given, the changes' messages, in order. */
  messages?: string[];
}

const ROWS: Row[] = [
  // Nothing changed, or nothing to compare.
  {
    name: 'equal contracts (fields and signatures reordered, tags reordered) have no changes',
    before: contract(
      sig('a', [field('x', f32([-1, 28])), field('z', f32([3]))], [field('y', f32([-1]))], { tags: ['serve', 'gpu'] }),
      sig('b', [field('x', seq(f32(null)))], []),
    ),
    after: contract(
      sig('b', [field('x', seq(f32(null)))], []),
      sig('a', [field('z', f32([3])), field('x', f32([-1, 28]))], [field('y', f32([-1]))], { tags: ['gpu', 'serve'] }),
    ),
    changes: [],
  },
  { name: 'no contract on either side: no changes', before: null, after: null, changes: [] },

  // The contract as a whole.
  {
    name: 'a contract that disappears is breaking (contract_removed)',
    before: input(f32([-1, 28])),
    after: null,
    changes: [{ kind: 'contract_removed', path: 'contract', before: 'signatures serving_default' }],
    messages: ['contract removed (had signatures serving_default)'],
  },
  {
    name: 'a contract where there was none is compatible (contract_added)',
    before: null,
    after: input(f32([-1, 28])),
    changes: [{ kind: 'contract_added', path: 'contract', after: 'signatures serving_default' }],
  },
  {
    name: 'another source format is informational (source_changed)',
    before: input(f32([-1, 28])),
    after: { ...input(f32([-1, 28])), source: 'savedmodel' },
    changes: [{ kind: 'source_changed', path: 'source', before: 'onnx', after: 'savedmodel' }],
    messages: ['contract source: onnx → savedmodel'],
  },
  {
    name: 'metadata added, removed and changed is informational (metadata_changed), sorted by key',
    before: input(f32([-1, 28])),
    after: input(f32([-1, 28])),
    options: {
      beforeMetadata: { 'onnx.producer': 'pytorch 2.1', author: 'me', same: '1' },
      afterMetadata: { 'onnx.producer': 'pytorch 2.2', same: '1', stage: 'prod' },
    },
    changes: [
      { kind: 'metadata_changed', path: 'metadata["author"]', before: 'me' },
      { kind: 'metadata_changed', path: 'metadata["onnx.producer"]', before: 'pytorch 2.1', after: 'pytorch 2.2' },
      { kind: 'metadata_changed', path: 'metadata["stage"]', after: 'prod' },
    ],
    messages: ['metadata author removed (was "me")', 'metadata onnx.producer: "pytorch 2.1" → "pytorch 2.2"', 'metadata stage added: "prod"'],
  },
  {
    name: 'metadata given on one side only is not compared (an uploaded contract has none)',
    before: input(f32([-1, 28])),
    after: input(f32([-1, 28])),
    options: { beforeMetadata: { author: 'me' } },
    changes: [],
  },
  {
    name: 'metadata is compared even when a contract is missing',
    before: null,
    after: null,
    options: { beforeMetadata: { a: '1' }, afterMetadata: { a: '2' } },
    changes: [{ kind: 'metadata_changed', path: 'metadata["a"]', before: '1', after: '2' }],
  },

  // Signatures.
  {
    name: 'a signature removed is breaking (signature_removed)',
    before: contract(sig('serving_default', [field('x', f32([-1, 28]))], [field('y', f32([-1]))]), sig('old', [], [])),
    after: contract(sig('serving_default', [field('x', f32([-1, 28]))], [field('y', f32([-1]))])),
    changes: [{ kind: 'signature_removed', path: 'signatures["old"]', before: '() → ()' }],
  },
  {
    name: 'a signature added is compatible (signature_added)',
    before: contract(sig('serving_default', [], [])),
    after: contract(sig('serving_default', [], []), sig('classify', [field('x', f32(['batch', 4]))], [field('c', t('DATA_TYPE_INT64', [-1]))])),
    changes: [{ kind: 'signature_added', path: 'signatures["classify"]', after: '(x: float[batch, 4]) → (c: int64[-1])' }],
    messages: ['signature classify added'],
  },
  {
    name: 'another method is informational (method_changed)',
    before: contract(sig('s', [], [], { method: 'tensorflow/serving/predict' })),
    after: contract(sig('s', [], [], { method: 'tensorflow/serving/classify' })),
    changes: [
      { kind: 'method_changed', path: 'signatures["s"].method', before: 'tensorflow/serving/predict', after: 'tensorflow/serving/classify' },
    ],
  },
  {
    name: 'other tags are informational (tags_changed)',
    before: contract(sig('s', [], [], { tags: ['serve'] })),
    after: contract(sig('s', [], [], { tags: ['serve', 'gpu'] })),
    changes: [{ kind: 'tags_changed', path: 'signatures["s"].tags', before: 'serve', after: 'gpu,serve' }],
    messages: ['tags of signature s: serve → gpu,serve'],
  },
  {
    name: 'a name repeated across MetaGraphDefs pairs by tags, and its paths carry them',
    before: contract(
      sig('serving_default', [field('x', f32([-1, 28]))], [], { tags: ['serve'] }),
      sig('serving_default', [field('x', f32([-1, 28]))], [], { tags: ['serve', 'gpu'] }),
    ),
    after: contract(
      sig('serving_default', [field('x', f32([-1, 32]))], [], { tags: ['gpu', 'serve'] }),
      sig('serving_default', [field('x', f32([-1, 28]))], [], { tags: ['serve'] }),
    ),
    changes: [{ kind: 'dim_changed', path: `${SD}[gpu,serve].inputs["x"].shape.dims[1]`, before: '28', after: '32' }],
  },
  {
    name: 'a repeated name whose tags changed pairs the rest in tag order: a tags change, not a removal',
    before: contract(sig('sd', [], [], { tags: ['serve'] }), sig('sd', [], [], { tags: ['serve', 'gpu'] })),
    after: contract(sig('sd', [], [], { tags: ['serve'] }), sig('sd', [], [], { tags: ['serve', 'tpu'] })),
    changes: [{ kind: 'tags_changed', path: 'signatures["sd"][gpu,serve].tags', before: 'gpu,serve', after: 'serve,tpu' }],
    messages: ['tags of signature sd [gpu,serve]: gpu,serve → serve,tpu'],
  },
  {
    name: 'a repeated name with one fewer MetaGraphDef removes that one',
    before: contract(sig('sd', [], [], { tags: ['serve'] }), sig('sd', [], [], { tags: ['serve', 'gpu'] })),
    after: contract(sig('sd', [], [], { tags: ['serve'] })),
    changes: [{ kind: 'signature_removed', path: 'signatures["sd"][gpu,serve]', before: '() → ()' }],
    messages: ['signature sd [gpu,serve] removed'],
  },

  // Fields.
  {
    name: 'an input added without a default is breaking (input_added)',
    before: io([field('x', f32([-1, 28]))]),
    after: io([field('x', f32([-1, 28])), field('mask', t('DATA_TYPE_BOOL', [-1]))]),
    changes: [{ kind: 'input_added', path: `${SD}.inputs["mask"]`, after: 'bool[-1]' }],
    messages: ['input mask added (bool[-1]): callers do not send it'],
  },
  {
    name: 'an input of optional type added is compatible (optional_input_added)',
    before: io([field('x', f32([-1, 28]))]),
    after: io([field('x', f32([-1, 28])), field('mask', opt(t('DATA_TYPE_BOOL', [-1])))]),
    changes: [{ kind: 'optional_input_added', path: `${SD}.inputs["mask"]`, after: 'optional<bool[-1]>' }],
  },
  {
    name: 'an input removed is breaking (input_removed)',
    before: io([field('x', f32([-1, 28])), field('z', f32(null))]),
    after: io([field('x', f32([-1, 28]))]),
    changes: [{ kind: 'input_removed', path: `${SD}.inputs["z"]`, before: 'float (unknown rank)' }],
  },
  {
    name: 'an output added is compatible (output_added)',
    before: output(f32([-1, 10])),
    after: io([field('x', f32([-1, 28]))], [field('y', f32([-1, 10])), field('logits', f32([-1, 10]))]),
    changes: [{ kind: 'output_added', path: `${SD}.outputs["logits"]`, after: 'float[-1, 10]' }],
  },
  {
    name: 'an output removed is breaking (output_removed)',
    before: io([field('x', f32([-1, 28]))], [field('y', f32([-1, 10])), field('logits', f32([-1, 10]))]),
    after: output(f32([-1, 10])),
    changes: [{ kind: 'output_removed', path: `${SD}.outputs["logits"]`, before: 'float[-1, 10]' }],
  },
  {
    name: 'a field moved from inputs to outputs is removed from one and added to the other',
    before: io([field('x', f32([-1, 28])), field('k', f32([1]))], []),
    after: io([field('x', f32([-1, 28]))], [field('k', f32([1]))]),
    changes: [
      { kind: 'input_removed', path: `${SD}.inputs["k"]`, before: 'float[1]' },
      { kind: 'output_added', path: `${SD}.outputs["k"]`, after: 'float[1]' },
    ],
  },
  {
    name: 'another profile is informational (profile_changed)',
    before: io([field('x', f32([-1, 28]), 'DATA_PROFILE_NUMERICAL')]),
    after: io([field('x', f32([-1, 28]), 'DATA_PROFILE_IMAGE')]),
    changes: [{ kind: 'profile_changed', path: `${X}.profile`, before: 'DATA_PROFILE_NUMERICAL', after: 'DATA_PROFILE_IMAGE' }],
    messages: ['profile of input x: numerical → image'],
  },

  // Dtypes, ranks, dims: inputs keep the rules; outputs have the opposite variance for sizes and ranks.
  {
    name: 'an input dtype changed is breaking (dtype_changed)',
    before: input(f32([-1, 28])),
    after: input(t('DATA_TYPE_DOUBLE', [-1, 28])),
    changes: [{ kind: 'dtype_changed', path: `${X}.dtype`, before: 'DATA_TYPE_FLOAT', after: 'DATA_TYPE_DOUBLE' }],
    messages: ['dtype of input x: float → double'],
  },
  {
    name: 'an output dtype changed is breaking too (dtype_changed)',
    before: output(t('DATA_TYPE_INT64', [-1])),
    after: output(t('DATA_TYPE_INT32', [-1])),
    changes: [{ kind: 'dtype_changed', path: `${Y}.dtype`, before: 'DATA_TYPE_INT64', after: 'DATA_TYPE_INT32' }],
  },
  {
    name: 'a known rank changed is breaking, and its dims are not compared (rank_changed)',
    before: input(f32([-1, 28])),
    after: input(f32([-1, 32, 1])),
    changes: [{ kind: 'rank_changed', path: `${X}.shape`, before: '[-1, 28]', after: '[-1, 32, 1]' }],
    messages: ['shape of input x: [-1, 28] → [-1, 32, 1] (rank 2 → 3)'],
  },
  {
    name: 'an input rank known → unknown is compatible (input_rank_widened)',
    before: input(f32([-1, 28])),
    after: input(f32(null)),
    changes: [{ kind: 'input_rank_widened', path: `${X}.shape`, before: '[-1, 28]', after: 'unknown rank' }],
    messages: ['shape of input x: [-1, 28] → unknown rank (widened)'],
  },
  {
    name: 'an input rank unknown → known is breaking (input_rank_narrowed)',
    before: input(f32(null)),
    after: input(f32([-1, 28])),
    changes: [{ kind: 'input_rank_narrowed', path: `${X}.shape`, before: 'unknown rank', after: '[-1, 28]' }],
  },
  {
    name: 'an output rank known → unknown is breaking (output_rank_widened)',
    before: output(f32([-1, 10])),
    after: output(f32(null)),
    changes: [{ kind: 'output_rank_widened', path: `${Y}.shape`, before: '[-1, 10]', after: 'unknown rank' }],
  },
  {
    name: 'an output rank unknown → known is compatible (output_rank_narrowed)',
    before: output(f32(null)),
    after: output(f32([-1, 10])),
    changes: [{ kind: 'output_rank_narrowed', path: `${Y}.shape`, before: 'unknown rank', after: '[-1, 10]' }],
  },
  {
    name: 'a fixed dim changed is breaking (dim_changed)',
    before: input(f32([-1, 28])),
    after: input(f32([-1, 32])),
    changes: [{ kind: 'dim_changed', path: `${X}.shape.dims[1]`, before: '28', after: '32' }],
    messages: ['dim 1 of input x: 28 → 32'],
  },
  {
    name: 'an input dim fixed → -1 is compatible (input_dim_widened)',
    before: input(f32([-1, 28])),
    after: input(f32([-1, -1])),
    changes: [{ kind: 'input_dim_widened', path: `${X}.shape.dims[1]`, before: '28', after: '-1' }],
    messages: ['dim 1 of input x: 28 → -1 (widened)'],
  },
  {
    name: 'an input dim -1 → fixed is breaking (input_dim_narrowed)',
    before: input(f32([-1, 28])),
    after: input(f32([1, 28])),
    changes: [{ kind: 'input_dim_narrowed', path: `${X}.shape.dims[0]`, before: '-1', after: '1' }],
    messages: ['dim 0 of input x: -1 → 1 (narrowed)'],
  },
  {
    name: 'an output dim fixed → -1 is breaking: callers may rely on the size (output_dim_widened)',
    before: output(f32([-1, 10])),
    after: output(f32([-1, -1])),
    changes: [{ kind: 'output_dim_widened', path: `${Y}.shape.dims[1]`, before: '10', after: '-1' }],
  },
  {
    name: 'an output dim -1 → fixed is compatible (output_dim_narrowed)',
    before: output(f32([-1, 10])),
    after: output(f32([1, 10])),
    changes: [{ kind: 'output_dim_narrowed', path: `${Y}.shape.dims[0]`, before: '-1', after: '1' }],
  },
  {
    name: 'a symbolic dim name changed is informational (dim_name_changed); with a size change both are listed',
    before: input(f32(['batch', 28])),
    after: input(f32(['N', 'width'])),
    changes: [
      { kind: 'dim_name_changed', path: `${X}.shape.dims[0].name`, before: 'batch', after: 'N' },
      { kind: 'input_dim_widened', path: `${X}.shape.dims[1]`, before: '28', after: '-1' },
      { kind: 'dim_name_changed', path: `${X}.shape.dims[1].name`, before: '', after: 'width' },
    ],
    messages: ['name of dim 0 of input x: batch → N', 'dim 1 of input x: 28 → -1 (widened)', 'name of dim 1 of input x: none → width'],
  },

  // Kinds, and the recursive types.
  {
    name: 'a tensor that becomes a sequence is breaking (type_kind_changed)',
    before: input(f32([-1, 28])),
    after: input(seq(f32([-1, 28]))),
    changes: [{ kind: 'type_kind_changed', path: `${X}.type`, before: 'tensor', after: 'sequence' }],
    messages: ['type of input x: tensor → sequence'],
  },
  {
    name: 'a tensor that becomes a sparse tensor changes kind (type_kind_changed)',
    before: input(f32([-1, 28])),
    after: input(sparse('DATA_TYPE_FLOAT', [-1, 28])),
    changes: [{ kind: 'type_kind_changed', path: `${X}.type`, before: 'tensor', after: 'sparseTensor' }],
    messages: ['type of input x: tensor → sparse tensor'],
  },
  {
    name: 'a sequence of tensors compares its elements, with the input variance',
    before: input(seq(f32([-1, 28]))),
    after: input(seq(t('DATA_TYPE_DOUBLE', [-1, -1]))),
    changes: [
      { kind: 'dtype_changed', path: `${X}.elementType.dtype`, before: 'DATA_TYPE_FLOAT', after: 'DATA_TYPE_DOUBLE' },
      { kind: 'input_dim_widened', path: `${X}.elementType.shape.dims[1]`, before: '28', after: '-1' },
    ],
    messages: ['dtype of element of input x: float → double', 'dim 1 of element of input x: 28 → -1 (widened)'],
  },
  {
    name: 'an output sequence of tensors compares its elements with the output variance',
    before: output(seq(f32([-1, 10]))),
    after: output(seq(f32([-1, -1]))),
    changes: [{ kind: 'output_dim_widened', path: `${Y}.elementType.shape.dims[1]`, before: '10', after: '-1' }],
  },
  {
    name: "a map's key dtype changed is breaking (key_dtype_changed); its values compare recursively",
    before: output(seq(map('DATA_TYPE_STRING', f32([])))),
    after: output(seq(map('DATA_TYPE_INT64', f32([1])))),
    changes: [
      { kind: 'key_dtype_changed', path: `${Y}.elementType.keyType`, before: 'DATA_TYPE_STRING', after: 'DATA_TYPE_INT64' },
      { kind: 'rank_changed', path: `${Y}.elementType.valueType.shape`, before: '[]', after: '[1]' },
    ],
    messages: ['key dtype of element of output y: string → int64', 'shape of value of element of output y: [] → [1] (rank 0 → 1)'],
  },
  {
    name: "a map's value that changes kind is breaking",
    before: input(map('DATA_TYPE_STRING', f32([-1]))),
    after: input(map('DATA_TYPE_STRING', seq(f32([-1])))),
    changes: [{ kind: 'type_kind_changed', path: `${X}.valueType.type`, before: 'tensor', after: 'sequence' }],
  },
  {
    name: 'an optional compares what it holds',
    before: input(opt(f32([-1, 28]))),
    after: input(opt(f32([-1, 32]))),
    changes: [{ kind: 'dim_changed', path: `${X}.elementType.shape.dims[1]`, before: '28', after: '32' }],
  },
  {
    name: 'an input that becomes optional is compatible, and what it holds still compares (input_made_optional)',
    before: input(f32([-1, 28])),
    after: input(opt(f32([-1, -1]))),
    changes: [
      { kind: 'input_dim_widened', path: `${X}.elementType.shape.dims[1]`, before: '28', after: '-1' },
      { kind: 'input_made_optional', path: `${X}.type`, before: 'tensor', after: 'optional' },
    ],
    messages: ['dim 1 of input x: 28 → -1 (widened)', 'input x: tensor → optional (made optional)'],
  },
  {
    name: 'an optional input that becomes required is breaking (input_made_required)',
    before: input(opt(seq(f32([-1])))),
    after: input(seq(f32([-1]))),
    changes: [{ kind: 'input_made_required', path: `${X}.type`, before: 'optional', after: 'sequence' }],
  },
  {
    name: 'an output that becomes optional is breaking (output_made_optional)',
    before: output(f32([-1, 10])),
    after: output(opt(f32([-1, 10]))),
    changes: [{ kind: 'output_made_optional', path: `${Y}.type`, before: 'tensor', after: 'optional' }],
  },
  {
    name: 'an optional output that becomes required is compatible (output_made_required)',
    before: output(opt(f32([-1, 10]))),
    after: output(f32([-1, 10])),
    changes: [{ kind: 'output_made_required', path: `${Y}.type`, before: 'optional', after: 'tensor' }],
  },
  {
    name: 'an optional that becomes another kind than what it held is both made required and a kind change',
    before: input(opt(f32([-1]))),
    after: input(seq(f32([-1]))),
    changes: [
      { kind: 'type_kind_changed', path: `${X}.elementType.type`, before: 'tensor', after: 'sequence' },
      { kind: 'input_made_required', path: `${X}.type`, before: 'optional', after: 'sequence' },
    ],
  },
  {
    name: 'a sparse tensor compares like a tensor',
    before: input(sparse('DATA_TYPE_FLOAT', [-1, 100])),
    after: input(sparse('DATA_TYPE_INT32', [-1, -1])),
    changes: [
      { kind: 'dtype_changed', path: `${X}.dtype`, before: 'DATA_TYPE_FLOAT', after: 'DATA_TYPE_INT32' },
      { kind: 'input_dim_widened', path: `${X}.shape.dims[1]`, before: '100', after: '-1' },
    ],
  },
  {
    name: "a ragged tensor's ragged rank changed is breaking (ragged_rank_changed)",
    before: input(ragged('DATA_TYPE_STRING', [-1, -1], 1)),
    after: input(ragged('DATA_TYPE_STRING', [-1, -1], 2)),
    changes: [{ kind: 'ragged_rank_changed', path: `${X}.raggedRank`, before: '1', after: '2' }],
  },
  {
    name: "a ragged tensor's row splits dtype changed is breaking (row_splits_dtype_changed), with its dims compared",
    before: input(ragged('DATA_TYPE_STRING', [-1, -1], 1, 'DATA_TYPE_INT64')),
    after: input(ragged('DATA_TYPE_STRING', [2, -1], 1, 'DATA_TYPE_INT32')),
    changes: [
      { kind: 'row_splits_dtype_changed', path: `${X}.rowSplitsDtype`, before: 'DATA_TYPE_INT64', after: 'DATA_TYPE_INT32' },
      { kind: 'input_dim_narrowed', path: `${X}.shape.dims[0]`, before: '-1', after: '2' },
    ],
    messages: ['row splits dtype of input x: int64 → int32', 'dim 0 of input x: -1 → 2 (narrowed)'],
  },

  // Order.
  {
    name: 'changes sort by path (names by code unit, dims by number), not by where they appear',
    before: contract(
      sig('b', [field('x', f32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))], [field('Z', f32([-1]))]),
      sig('a', [field('x', f32([1]))], []),
    ),
    after: contract(
      sig('a', [field('x', f32([2]))], []),
      sig('b', [field('x', f32([1, 2, -1, 4, 5, 6, 7, 8, 9, 10, -1])), field('W', f32([1]))], [field('Z', f32([1]))]),
    ),
    options: { beforeMetadata: { k: '1' }, afterMetadata: { k: '2' } },
    changes: [
      { kind: 'metadata_changed', path: 'metadata["k"]', before: '1', after: '2' },
      { kind: 'dim_changed', path: 'signatures["a"].inputs["x"].shape.dims[0]', before: '1', after: '2' },
      { kind: 'input_added', path: 'signatures["b"].inputs["W"]', after: 'float[1]' },
      { kind: 'input_dim_widened', path: 'signatures["b"].inputs["x"].shape.dims[2]', before: '3', after: '-1' },
      { kind: 'input_dim_widened', path: 'signatures["b"].inputs["x"].shape.dims[10]', before: '11', after: '-1' },
      { kind: 'output_dim_narrowed', path: 'signatures["b"].outputs["Z"].shape.dims[0]', before: '-1', after: '1' },
    ],
  },
];

for (const row of ROWS) {
  test(row.name, () => {
    const diff = diffContracts(row.before, row.after, row.options);
    const got = diff.changes.map(({ kind, path, before, after }) => ({ kind, path, ...(before !== undefined && { before }), ...(after !== undefined && { after }) }));
    assert.deepEqual(got, row.changes);
    for (const c of diff.changes) assert.equal(c.severity, RULES[c.kind].severity, `${c.kind}'s severity is its rule's`);
    assert.equal(diff.breaking, diff.changes.some((c) => RULES[c.kind].severity === 'breaking'));
    if (row.messages) assert.deepEqual(diff.changes.map((c) => c.message), row.messages);
  });
}

test('every rule in RULES has a row that produces it', () => {
  const covered = new Set(ROWS.flatMap((r) => r.changes.map((c) => c.kind)));
  assert.deepEqual(Object.keys(RULES).filter((k) => !covered.has(k as ChangeKind)), []);
});

test('breaking is true when one change among compatible ones is breaking, false for compatible and informational only', () => {
  const compatible = diffContracts(input(f32([-1, 28])), { ...input(f32([-1, -1])), source: 'savedmodel' });
  assert.deepEqual(compatible.changes.map((c) => c.severity), ['compatible', 'informational']);
  assert.equal(compatible.breaking, false);
  const breaking = diffContracts(input(f32([-1, 28])), io([field('x', f32([-1, -1])), field('m', f32([1]))]));
  assert.deepEqual(breaking.changes.map((c) => c.severity), ['breaking', 'compatible']);
  assert.equal(breaking.breaking, true);
  assert.equal(diffContracts(null, null).breaking, false);
});

test('the same contracts in any order of signatures and fields give the same diff, and the inputs are not changed', () => {
  const before = contract(
    sig('s1', [field('a', f32([1])), field('b', f32([2])), field('c', seq(f32([3])))], [field('y', f32([-1]))]),
    sig('s2', [field('a', f32([1]))], [], { tags: ['serve'] }),
    sig('s3', [], []),
  );
  const after = contract(
    sig('s1', [field('a', f32([-1])), field('c', seq(f32([4]))), field('d', f32([2]))], [field('y', f32([1])), field('z', f32([1]))]),
    sig('s2', [field('a', t('DATA_TYPE_INT8', [1]))], [], { tags: ['gpu'] }),
    sig('s4', [], []),
  );
  const reversed = (c: Contract): Contract => ({
    ...c,
    signatures: [...c.signatures].reverse().map((s) => ({ ...s, inputs: [...s.inputs].reverse(), outputs: [...s.outputs].reverse() })),
  });
  const frozen = JSON.stringify([before, after]);
  const diff = diffContracts(before, after);
  assert.ok(diff.changes.length >= 10);
  assert.deepEqual(diffContracts(reversed(before), reversed(after)), diff);
  assert.deepEqual(diffContracts(before, after), diff, 'deterministic');
  assert.equal(JSON.stringify([before, after]), frozen, 'diffContracts does not change its arguments');
});

test("README's contract compatibility table = rulesTable() (regenerate: npx tsx scripts/contract-rules-table.ts)", () => {
  const readme = readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');
  const start = readme.indexOf('<!-- contract-rules:start');
  const end = readme.indexOf('<!-- contract-rules:end -->');
  assert.ok(start >= 0 && end > start, 'README has the table between its markers');
  const table = readme.slice(readme.indexOf('\n', start) + 1, end).trim();
  assert.equal(table, rulesTable());
  const sections = [...(readme.match(/^## .*$/gm) ?? [])];
  assert.equal(sections.indexOf('## Contract compatibility'), sections.indexOf('## Contracts') + 1, 'the section follows ## Contracts');
  assert.ok(readme.indexOf('## Contract compatibility') < start, 'the table is in that section');
  assert.ok(end < readme.indexOf(`\n${sections[sections.indexOf('## Contract compatibility') + 1]}\n`), 'the table is in that section');
});
