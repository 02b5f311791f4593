// The contract diff: every change between two contracts (and their versions' metadata), each classified as
// breaking, compatible or informational by one table of rules (RULES), which the README's table is printed from.
import type { Contract, DataProfile, DataType, Dim, Field, Shape, Signature, ValueType } from './types';

export type Severity = 'breaking' | 'compatible' | 'informational';

export interface Rule {
  severity: Severity;
  /** When the rule applies, in one sentence (the README's table). */
  description: string;
}

// Variance: a caller writes inputs and reads outputs. An input may come to accept more (a fixed dim becomes -1,
// a known rank unknown, a type becomes optional) without breaking any caller, never less; an output may come to
// promise more (narrower), never less. So each size/rank/optionality rule comes in an input and an output form
// with opposite severities; everything else (dtypes, kinds, fixed sizes, ragged specs) must stay exactly equal.
const breaking = (description: string) => ({ severity: 'breaking', description }) as const;
const compatible = (description: string) => ({ severity: 'compatible', description }) as const;
const informational = (description: string) => ({ severity: 'informational', description }) as const;

const rules = {
  contract_removed: breaking('The new side has no contract (the old one had): every signature is gone.'),
  contract_added: compatible('The old side had no contract: it promised nothing, so nothing breaks.'),
  source_changed: informational('The format the contract was read from changed (`onnx` → `savedmodel`).'),
  metadata_changed: informational("A version metadata entry was added, removed or changed (when both sides' are given)."),
  signature_removed: breaking('A signature was removed: its callers are refused.'),
  signature_added: compatible('A signature was added.'),
  method_changed: informational("A signature's method (TensorFlow method name) changed."),
  tags_changed: informational("A signature's tags changed (compared as sets)."),
  input_added: breaking('An input was added that is not `optional` (there are no defaults): old callers do not send it.'),
  optional_input_added: compatible('An input of `optional` type was added: old callers may leave it out.'),
  input_removed: breaking('An input was removed: callers that send it are refused.'),
  output_added: compatible('An output was added: old callers ignore it.'),
  output_removed: breaking('An output was removed: callers that read it find nothing.'),
  profile_changed: informational("A field's data profile changed (`numerical` → `image`)."),
  type_kind_changed: breaking('A value changed kind (tensor → sequence, sparse...), other than to or from `optional`.'),
  input_made_optional: compatible('An input value of type T became `optional<T>`: callers that send it still fit.'),
  input_made_required: breaking('An input value of type `optional<T>` became T: callers that leave it out are refused.'),
  output_made_optional: breaking('An output value of type T became `optional<T>`: callers may get no value.'),
  output_made_required: compatible('An output value of type `optional<T>` became T: it is always there now.'),
  dtype_changed: breaking('The element type of a tensor, sparse or ragged tensor changed.'),
  key_dtype_changed: breaking("A map's key type changed."),
  rank_changed: breaking('A known rank became another known rank.'),
  input_rank_widened: compatible("An input's known rank became unknown: it accepts any shape."),
  input_rank_narrowed: breaking("An input's unknown rank became known: other shapes are refused."),
  output_rank_widened: breaking("An output's known rank became unknown: callers cannot rely on its shape."),
  output_rank_narrowed: compatible("An output's unknown rank became known."),
  dim_changed: breaking('A fixed dim became another fixed size (28 → 32).'),
  input_dim_widened: compatible('An input dim of fixed size became unknown (28 → -1): it accepts any size.'),
  input_dim_narrowed: breaking('An input dim of unknown size became fixed (-1 → 28): other sizes are refused.'),
  output_dim_widened: breaking('An output dim of fixed size became unknown (28 → -1): callers cannot rely on its size.'),
  output_dim_narrowed: compatible('An output dim of unknown size became fixed (-1 → 28).'),
  dim_name_changed: informational("A dim's symbolic name changed (ONNX `dim_param`)."),
  ragged_rank_changed: breaking("A ragged tensor's ragged rank changed."),
  row_splits_dtype_changed: breaking("A ragged tensor's row splits dtype changed."),
} as const satisfies Record<string, Rule>;

export type ChangeKind = keyof typeof rules;

/** Every kind of change, its severity and when it applies, in the order the README lists them. */
export const RULES: Readonly<Record<ChangeKind, Rule>> = rules;

export interface ContractChange {
  severity: Severity;
  kind: ChangeKind;
  /** Where, from the contract's root: `signatures["serving_default"].inputs["x"].shape.dims[1]`; `metadata["k"]`;
   * `contract` for the contract as a whole. */
  path: string;
  /** What changed, with the old and new values: `dim 1 of input x: 28 → -1 (widened)`. */
  message: string;
  /** The old value, when there was one, as the message shows it (dtypes as their enum names). */
  before?: string;
  /** The new value, when there is one. */
  after?: string;
}

export interface ContractDiff {
  /** Sorted by path (dims by index), then kind: the same contracts give the same list, whatever their order. */
  changes: ContractChange[];
  /** Some change is breaking. */
  breaking: boolean;
}

export interface DiffOptions {
  beforeMetadata?: Record<string, string>;
  afterMetadata?: Record<string, string>;
}

/**
 * Every change from `before` to `after`. Signatures are matched by name (a name that repeats, as a SavedModel's
 * serving_default does in each MetaGraphDef, by name and tags), fields by name. A null contract is "no contract":
 * null → contract is one contract_added, contract → null one contract_removed, null → null nothing. Metadata is
 * compared only when both sides' is given (an uploaded contract has none to compare).
 */
export function diffContracts(before: Contract | null, after: Contract | null, options: DiffOptions = {}): ContractDiff {
  const out: Pending[] = [];
  if (before && after) diffContract(out, before, after);
  else if (before) {
    emit(out, 'contract_removed', ['contract'], `contract removed (had ${signatureList(before)})`, signatureList(before));
  } else if (after) {
    emit(out, 'contract_added', ['contract'], `contract added (${signatureList(after)})`, undefined, signatureList(after));
  }
  if (options.beforeMetadata && options.afterMetadata) diffMetadata(out, options.beforeMetadata, options.afterMetadata);

  out.sort((x, y) => compareSegments(x.at, y.at) || compare(x.kind, y.kind) || compare(x.message, y.message));
  const changes = out.map(({ at: _at, ...change }) => change);
  return { changes, breaking: changes.some((c) => c.severity === 'breaking') };
}

/** The README's table of RULES (scripts/contract-rules-table.ts prints it; a unit test checks the README has it). */
export function rulesTable(): string {
  const rows = Object.entries(RULES).map(([kind, rule]) => `| \`${kind}\` | ${rule.severity} | ${rule.description} |`);
  return ['| Change | Severity | When |', '|---|---|---|', ...rows].join('\n');
}

// --- paths ---

/** `.name` for a property, `["key"]` for a name-keyed entry (with `[tags]` when the name alone is ambiguous),
 * `[n]` for an index. Kept structured until the end so dims sort by number, not as text. */
type Segment = string | number | { key: string; tags?: string };

interface Pending extends ContractChange {
  at: Segment[];
}

function formatPath(at: readonly Segment[]): string {
  let path = '';
  for (const seg of at) {
    if (typeof seg === 'number') path += `[${seg}]`;
    else if (typeof seg === 'string') path += path ? `.${seg}` : seg;
    else path += `[${JSON.stringify(seg.key)}]${seg.tags !== undefined ? `[${seg.tags}]` : ''}`;
  }
  return path;
}

function compareSegments(a: readonly Segment[], b: readonly Segment[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareSegment(a[i], b[i]);
    if (c) return c;
  }
  return a.length - b.length; // a location before what is inside it
}

function compareSegment(a: Segment, b: Segment): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'object' && typeof b === 'object') return compare(a.key, b.key) || compare(a.tags ?? '', b.tags ?? '');
  return compare(formatPath([a]), formatPath([b]));
}

/** By code unit, not locale: the order must not depend on the machine. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function emit(out: Pending[], kind: ChangeKind, at: Segment[], message: string, before?: string, after?: string): void {
  const change: Pending = { severity: RULES[kind].severity, kind, path: formatPath(at), message, at };
  if (before !== undefined) change.before = before;
  if (after !== undefined) change.after = after;
  out.push(change);
}

// --- contract, metadata, signatures ---

function diffContract(out: Pending[], before: Contract, after: Contract): void {
  if (before.source !== after.source) {
    const message = `contract source: ${before.source} → ${after.source}`;
    emit(out, 'source_changed', ['source'], message, before.source, after.source);
  }
  for (const { before: b, after: a, at } of pairSignatures(before.signatures, after.signatures)) {
    if (b && a) diffSignature(out, at, b, a);
    else if (b) emit(out, 'signature_removed', at, `signature ${signatureName(b, at)} removed`, signatureText(b));
    else if (a) emit(out, 'signature_added', at, `signature ${signatureName(a, at)} added`, undefined, signatureText(a));
  }
}

function diffMetadata(out: Pending[], before: Record<string, string>, after: Record<string, string>): void {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(compare);
  for (const key of keys) {
    const at: Segment[] = ['metadata', { key }];
    const [b, a] = [before[key], after[key]];
    if (b === a) continue;
    if (b === undefined) emit(out, 'metadata_changed', at, `metadata ${key} added: ${JSON.stringify(a)}`, undefined, a);
    else if (a === undefined) emit(out, 'metadata_changed', at, `metadata ${key} removed (was ${JSON.stringify(b)})`, b);
    else emit(out, 'metadata_changed', at, `metadata ${key}: ${JSON.stringify(b)} → ${JSON.stringify(a)}`, b, a);
  }
}

interface SignaturePair {
  before?: Signature;
  after?: Signature;
  at: Segment[];
}

/** By name; where a name repeats on either side, by name and tag set, then the rest of that name in tag order (so
 * [serve,gpu] → [serve,tpu] is a tags change, not a removal and an addition). */
function pairSignatures(before: Signature[], after: Signature[]): SignaturePair[] {
  const names = [...new Set([...before, ...after].map((s) => s.name))].sort(compare);
  const pairs: SignaturePair[] = [];
  for (const name of names) {
    const byTags = (s: Signature[]) => s.filter((x) => x.name === name).sort((x, y) => compare(tagKey(x), tagKey(y)));
    const bs = byTags(before);
    const as = byTags(after);
    const repeated = bs.length > 1 || as.length > 1;
    const at = (s: Signature): Segment[] => ['signatures', repeated ? { key: name, tags: tagKey(s) } : { key: name }];
    const matched: Array<[Signature, Signature]> = [];
    const unmatched: Signature[] = [];
    for (const b of bs) {
      const i = as.findIndex((a) => tagKey(a) === tagKey(b));
      if (i >= 0) matched.push([b, as.splice(i, 1)[0]]);
      else unmatched.push(b);
    }
    while (unmatched.length && as.length) matched.push([unmatched.shift()!, as.shift()!]);
    for (const [b, a] of matched) pairs.push({ before: b, after: a, at: at(b) }); // located by the old tags
    for (const b of unmatched) pairs.push({ before: b, at: at(b) });
    for (const a of as) pairs.push({ after: a, at: at(a) });
  }
  return pairs;
}

function diffSignature(out: Pending[], at: Segment[], before: Signature, after: Signature): void {
  const name = signatureName(before, at);
  if (before.method !== after.method) {
    const [b, a] = [before.method || 'none', after.method || 'none'];
    const message = `method of signature ${name}: ${b} → ${a}`;
    emit(out, 'method_changed', [...at, 'method'], message, before.method, after.method);
  }
  if (tagKey(before) !== tagKey(after)) {
    const [b, a] = [tagKey(before), tagKey(after)];
    emit(out, 'tags_changed', [...at, 'tags'], `tags of signature ${name}: ${b || 'none'} → ${a || 'none'}`, b, a);
  }
  diffFields(out, 'input', [...at, 'inputs'], before.inputs, after.inputs);
  diffFields(out, 'output', [...at, 'outputs'], before.outputs, after.outputs);
}

const tagKey = (s: Signature): string => [...s.tags].sort(compare).join(',');
const signatureName = (s: Signature, at: Segment[]): string => {
  const seg = at[at.length - 1];
  return typeof seg === 'object' && seg.tags !== undefined ? `${s.name} [${seg.tags}]` : s.name;
};

// --- fields and values ---

type Side = 'input' | 'output';

/** The kinds that come in an input and an output form (see Variance above). */
const SIDE_KINDS = {
  input: {
    removed: 'input_removed',
    madeOptional: 'input_made_optional',
    madeRequired: 'input_made_required',
    rankWidened: 'input_rank_widened',
    rankNarrowed: 'input_rank_narrowed',
    dimWidened: 'input_dim_widened',
    dimNarrowed: 'input_dim_narrowed',
  },
  output: {
    removed: 'output_removed',
    madeOptional: 'output_made_optional',
    madeRequired: 'output_made_required',
    rankWidened: 'output_rank_widened',
    rankNarrowed: 'output_rank_narrowed',
    dimWidened: 'output_dim_widened',
    dimNarrowed: 'output_dim_narrowed',
  },
} as const satisfies Record<Side, Record<string, ChangeKind>>;

/** Paired by name; a name given twice (no format allows it, but nothing forbids it) pairs by occurrence. */
function diffFields(out: Pending[], side: Side, at: Segment[], before: Field[], after: Field[]): void {
  const names = [...new Set([...before, ...after].map((f) => f.name))].sort(compare);
  for (const name of names) {
    const bs = before.filter((f) => f.name === name);
    const as = after.filter((f) => f.name === name);
    const fieldAt = [...at, { key: name }];
    const subject = `${side} ${name}`;
    for (let i = 0; i < Math.max(bs.length, as.length); i++) {
      const [b, a] = [bs[i], as[i]];
      if (b && a) {
        diffField(out, side, fieldAt, subject, b, a);
      } else if (b) {
        emit(out, SIDE_KINDS[side].removed, fieldAt, `${subject} removed (${typeText(b)})`, typeText(b));
      } else if (side === 'output') {
        emit(out, 'output_added', fieldAt, `${subject} added (${typeText(a)})`, undefined, typeText(a));
      } else if (a.type === 'optional') {
        emit(out, 'optional_input_added', fieldAt, `optional ${subject} added (${typeText(a)})`, undefined, typeText(a));
      } else {
        const message = `${subject} added (${typeText(a)}): callers do not send it`;
        emit(out, 'input_added', fieldAt, message, undefined, typeText(a));
      }
    }
  }
}

function diffField(out: Pending[], side: Side, at: Segment[], subject: string, before: Field, after: Field): void {
  if (before.profile !== after.profile) {
    const [b, a] = [profileText(before.profile), profileText(after.profile)];
    emit(out, 'profile_changed', [...at, 'profile'], `profile of ${subject}: ${b} → ${a}`, before.profile, after.profile);
  }
  diffValue(out, side, at, subject, before, after);
}

/** Recursive: sequence elements, map keys and values and optional contents are compared with the field's variance
 * (an input's sequence elements are still written by the caller). Nested paths go through `elementType` and
 * `valueType`, as in the contract's own structure with the oneof member (`tensor`, `sequence`...) left out. */
function diffValue(out: Pending[], side: Side, at: Segment[], subject: string, before: ValueType, after: ValueType): void {
  if (before.type !== after.type) {
    // Gaining or losing `optional` is a question of presence, with its own variance; the value inside still compares.
    if (after.type === 'optional') {
      const message = `${subject}: ${kindText(before)} → optional (made optional)`;
      emit(out, SIDE_KINDS[side].madeOptional, [...at, 'type'], message, before.type, after.type);
      diffValue(out, side, [...at, 'elementType'], subject, before, after.optional.elementType);
    } else if (before.type === 'optional') {
      const message = `${subject}: optional → ${kindText(after)} (made required)`;
      emit(out, SIDE_KINDS[side].madeRequired, [...at, 'type'], message, before.type, after.type);
      diffValue(out, side, [...at, 'elementType'], subject, before.optional.elementType, after);
    } else {
      const [b, a] = [kindText(before), kindText(after)];
      emit(out, 'type_kind_changed', [...at, 'type'], `type of ${subject}: ${b} → ${a}`, before.type, after.type);
    }
    return;
  }
  const [tb, ta] = [tensorPart(before), tensorPart(after)];
  if (tb && ta) {
    diffDtype(out, [...at, 'dtype'], `dtype of ${subject}`, tb.dtype, ta.dtype);
    diffShape(out, side, at, subject, tb.shape, ta.shape);
  }
  // Same kind on both sides from here (checked above), so `after` has the member `before` has.
  switch (before.type) {
    case 'raggedTensor': {
      const [b, a] = [before.raggedTensor, (after as typeof before).raggedTensor];
      if (b.raggedRank !== a.raggedRank) {
        const message = `ragged rank of ${subject}: ${b.raggedRank} → ${a.raggedRank}`;
        emit(out, 'ragged_rank_changed', [...at, 'raggedRank'], message, String(b.raggedRank), String(a.raggedRank));
      }
      if (b.rowSplitsDtype !== a.rowSplitsDtype) {
        const message = `row splits dtype of ${subject}: ${dtypeText(b.rowSplitsDtype)} → ${dtypeText(a.rowSplitsDtype)}`;
        emit(out, 'row_splits_dtype_changed', [...at, 'rowSplitsDtype'], message, b.rowSplitsDtype, a.rowSplitsDtype);
      }
      return;
    }
    case 'sequence': {
      const a = (after as typeof before).sequence;
      diffValue(out, side, [...at, 'elementType'], `element of ${subject}`, before.sequence.elementType, a.elementType);
      return;
    }
    case 'map': {
      const [b, a] = [before.map, (after as typeof before).map];
      if (b.keyType !== a.keyType) {
        const message = `key dtype of ${subject}: ${dtypeText(b.keyType)} → ${dtypeText(a.keyType)}`;
        emit(out, 'key_dtype_changed', [...at, 'keyType'], message, b.keyType, a.keyType);
      }
      diffValue(out, side, [...at, 'valueType'], `value of ${subject}`, b.valueType, a.valueType);
      return;
    }
    case 'optional': {
      const a = (after as typeof before).optional;
      diffValue(out, side, [...at, 'elementType'], subject, before.optional.elementType, a.elementType);
      return;
    }
  }
}

/** The dtype and shape of a tensor, sparse or ragged tensor: compared alike. */
function tensorPart(v: ValueType): { dtype: DataType; shape: Shape | null } | null {
  switch (v.type) {
    case 'tensor':
      return v.tensor;
    case 'sparseTensor':
      return v.sparseTensor;
    case 'raggedTensor':
      return v.raggedTensor;
    default:
      return null;
  }
}

function diffDtype(out: Pending[], at: Segment[], what: string, before: DataType, after: DataType): void {
  // DATA_TYPE_UNSPECIFIED is compared like any dtype: a change to or from it is not provably safe.
  if (before === after) return;
  emit(out, 'dtype_changed', at, `${what}: ${dtypeText(before)} → ${dtypeText(after)}`, before, after);
}

type MaybeShape = Shape | null;

function diffShape(out: Pending[], side: Side, at: Segment[], subject: string, before: MaybeShape, after: MaybeShape): void {
  const shapeAt = [...at, 'shape'];
  const [b, a] = [shapeText(before), shapeText(after)];
  if (!before && !after) return;
  if (!before || !after) {
    // Unknown rank accepts (or promises) any shape: to unknown widens, from unknown narrows.
    if (!after) emit(out, SIDE_KINDS[side].rankWidened, shapeAt, `shape of ${subject}: ${b} → ${a} (widened)`, b, a);
    else emit(out, SIDE_KINDS[side].rankNarrowed, shapeAt, `shape of ${subject}: ${b} → ${a} (narrowed)`, b, a);
    return;
  }
  if (before.dims.length !== after.dims.length) {
    const message = `shape of ${subject}: ${b} → ${a} (rank ${before.dims.length} → ${after.dims.length})`;
    emit(out, 'rank_changed', shapeAt, message, b, a);
    return;
  }
  before.dims.forEach((bd, i) => diffDim(out, side, [...shapeAt, 'dims', i], `dim ${i} of ${subject}`, bd, after.dims[i]));
}

function diffDim(out: Pending[], side: Side, at: Segment[], what: string, before: Dim, after: Dim): void {
  const [b, a] = [sizeOf(before), sizeOf(after)];
  if (b !== a) {
    const [bs, as] = [String(b), String(a)];
    if (b >= 0 && a >= 0) emit(out, 'dim_changed', at, `${what}: ${bs} → ${as}`, bs, as);
    else if (a < 0) emit(out, SIDE_KINDS[side].dimWidened, at, `${what}: ${bs} → ${as} (widened)`, bs, as);
    else emit(out, SIDE_KINDS[side].dimNarrowed, at, `${what}: ${bs} → ${as} (narrowed)`, bs, as);
  }
  if (before.name !== after.name) {
    const message = `name of ${what}: ${before.name || 'none'} → ${after.name || 'none'}`;
    emit(out, 'dim_name_changed', [...at, 'name'], message, before.name, after.name);
  }
}

/** Any negative size is unknown (the model says -1; nothing else is meaningful). */
const sizeOf = (d: Dim): number => (d.size < 0 ? -1 : d.size);

// --- how values read in messages ---

const dtypeText = (d: DataType): string => d.replace(/^DATA_TYPE_/, '').toLowerCase();
const profileText = (p: DataProfile): string => p.replace(/^DATA_PROFILE_/, '').toLowerCase();

const KIND_NAMES: Record<ValueType['type'], string> = {
  tensor: 'tensor',
  sequence: 'sequence',
  map: 'map',
  optional: 'optional',
  sparseTensor: 'sparse tensor',
  raggedTensor: 'ragged tensor',
};
const kindText = (v: ValueType): string => KIND_NAMES[v.type];

/** `[-1, 28]`, `[batch, 28]` (an unknown dim by its name), `[]` for a scalar, `unknown rank`. */
function shapeText(shape: Shape | null): string {
  if (!shape) return 'unknown rank';
  return `[${shape.dims.map((d) => (d.size >= 0 ? String(d.size) : d.name || '-1')).join(', ')}]`;
}

/** `float[-1, 28]`, `sequence<map<string, float[]>>`, `optional<int64 (unknown rank)>`, `ragged float[-1, -1]`. */
function typeText(v: ValueType): string {
  const tensorText = (t: { dtype: DataType; shape: Shape | null }) =>
    `${dtypeText(t.dtype)}${t.shape ? shapeText(t.shape) : ' (unknown rank)'}`;
  switch (v.type) {
    case 'tensor':
      return tensorText(v.tensor);
    case 'sparseTensor':
      return `sparse ${tensorText(v.sparseTensor)}`;
    case 'raggedTensor':
      return `ragged ${tensorText(v.raggedTensor)}`;
    case 'sequence':
      return `sequence<${typeText(v.sequence.elementType)}>`;
    case 'map':
      return `map<${dtypeText(v.map.keyType)}, ${typeText(v.map.valueType)}>`;
    case 'optional':
      return `optional<${typeText(v.optional.elementType)}>`;
  }
}

/** `(x: float[-1, 28]) → (y: float[-1, 10])`: what a removed or added signature took and gave. */
function signatureText(s: Signature): string {
  const fields = (fs: Field[]) => fs.map((f) => `${f.name}: ${typeText(f)}`).join(', ');
  return `(${fields(s.inputs)}) → (${fields(s.outputs)})`;
}

function signatureList(c: Contract): string {
  const names = [...new Set(c.signatures.map((s) => s.name))].sort(compare);
  return names.length ? `signatures ${names.join(', ')}` : 'no signatures';
}
