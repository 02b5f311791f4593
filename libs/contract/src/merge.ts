// mergeContracts: the contract read from the model's files, refined by the one its manifest declares. The model's
// metadata is the truth: a manifest may add what the files do not say (profiles, sizes of unknown dims, dim names)
// but never contradict them.
import { formatPath, ManifestError, type ManifestIssue } from '@kiln/manifest';
import { DEFAULT_SIGNATURE_NAME } from './manifest';
import type { Contract, DataType, Dim, Field, Shape, Signature } from './types';

type Segment = string | number;

/**
 * Both null: null. One null: the other (its source kept; an unnamed manifest signature becomes 'predict'). Both:
 * the inferred contract (source kept) with the manifest's refinements; a manifest signature refines every model
 * signature of its name (a SavedModel has one per MetaGraphDef that declares it). Throws ManifestError (INVALID_ARGUMENT)
 * naming each contradiction's manifest field: `contract.inputs.x.type`, `contract.outputs.y.shape[1]`,
 * `contract.name`; in a manifest with several signatures, `contract.<signature>.inputs.x.type`.
 */
export function mergeContracts(inferred: Contract | null, manifest: Contract | null): Contract | null {
  if (!manifest) return inferred;
  const issues: ManifestIssue[] = [];
  if (!inferred) {
    requireTypes(manifest, issues);
    if (issues.length) throw new ManifestError(issues, 'manifest');
    return {
      ...manifest,
      signatures: manifest.signatures.map((s) => (s.name ? s : { ...s, name: DEFAULT_SIGNATURE_NAME })),
    };
  }

  const refined = new Map<Signature, Signature>();
  const single = manifest.signatures.length === 1;
  for (const ms of manifest.signatures) {
    const base: Segment[] = single ? ['contract'] : ['contract', ms.name];
    const targets = findSignatures(inferred, ms, base, issues);
    if (targets.some((t) => refined.has(t))) {
      issues.push({ location: formatPath(base), message: `describes signature "${targets[0].name}" a second time` });
      continue;
    }
    // A SavedModel repeats a signature name in each MetaGraphDef (serving_default for [serve] and [serve, gpu]):
    // the manifest names the signature, so it refines every one of that name, each checked against its own fields.
    for (const target of targets) refined.set(target, mergeSignature(target, ms, base, issues));
  }
  // Repeats of a signature contradict the manifest in the same words: say each thing once.
  const unique = [...new Map(issues.map((i) => [`${i.location}\0${i.message}`, i])).values()];
  if (unique.length) throw new ManifestError(unique, 'manifest');
  return { source: inferred.source, signatures: inferred.signatures.map((s) => refined.get(s) ?? s) };
}

/** A manifest that is the whole contract must give every field's type: there is no model metadata to take it from. */
function requireTypes(manifest: Contract, issues: ManifestIssue[]): void {
  const single = manifest.signatures.length === 1;
  for (const s of manifest.signatures) {
    for (const side of ['inputs', 'outputs'] as const) {
      for (const f of s[side]) {
        if (tensorPart(f)?.dtype !== 'DATA_TYPE_UNSPECIFIED') continue;
        issues.push({
          location: formatPath([...(single ? ['contract'] : ['contract', s.name]), side, f.name, 'type']),
          message: "is required: the model's files give no contract of their own, so the manifest's must say each type",
        });
      }
    }
  }
}

function findSignatures(inferred: Contract, ms: Signature, base: Segment[], issues: ManifestIssue[]): Signature[] {
  const distinct = [...new Set(inferred.signatures.map((s) => s.name))];
  const names = distinct.map((n) => `"${n}"`).join(', ') || 'none';
  // An unnamed manifest signature means "the model's signature", whatever the format calls it.
  if (ms.name === '') {
    if (distinct.length === 1) return inferred.signatures;
    issues.push({
      location: formatPath([...base, 'name']),
      message: `the model has ${distinct.length} signatures (${names}); name the one this contract describes`,
    });
    return [];
  }
  const found = inferred.signatures.filter((s) => s.name === ms.name);
  if (!found.length) {
    issues.push({
      location: formatPath(base.length === 1 ? [...base, 'name'] : base),
      message: `the model has no signature "${ms.name}"; its signatures: ${names}`,
    });
  }
  return found;
}

function mergeSignature(target: Signature, ms: Signature, base: Segment[], issues: ManifestIssue[]): Signature {
  return {
    ...target,
    inputs: mergeFields(target, ms.inputs, 'inputs', base, issues),
    outputs: mergeFields(target, ms.outputs, 'outputs', base, issues),
  };
}

function mergeFields(
  target: Signature,
  declared: Field[],
  side: 'inputs' | 'outputs',
  base: Segment[],
  issues: ManifestIssue[],
): Field[] {
  const own = target[side];
  const other = side === 'inputs' ? target.outputs : target.inputs;
  const merged = new Map<Field, Field>();
  for (const mf of declared) {
    const path = [...base, side, mf.name];
    const f = own.find((x) => x.name === mf.name);
    if (!f) {
      const singular = side.slice(0, -1);
      issues.push({
        location: formatPath(path),
        message: other.some((x) => x.name === mf.name)
          ? `"${mf.name}" is an ${side === 'inputs' ? 'output' : 'input'} of the model, not an ${singular}`
          : `the model has no ${singular} "${mf.name}"; its ${side}: ${own.map((x) => `"${x.name}"`).join(', ') || 'none'}`,
      });
      continue;
    }
    const m = mergeField(f, mf, path, issues);
    if (m) merged.set(f, m);
  }
  // The model's order and the fields the manifest leaves out stay as the files say.
  return own.map((f) => merged.get(f) ?? f);
}

/** The dense-like part of a field (dtype and shape), whichever of tensor, sparse or ragged it is. */
function tensorPart(f: Field): { dtype: DataType; shape: Shape | null } | undefined {
  if (f.type === 'tensor') return f.tensor;
  if (f.type === 'sparseTensor') return f.sparseTensor;
  if (f.type === 'raggedTensor') return f.raggedTensor;
  return undefined;
}

function mergeField(f: Field, mf: Field, path: Segment[], issues: ManifestIssue[]): Field | undefined {
  const model = tensorPart(f);
  const declared = tensorPart(mf);
  if (!model || !declared) {
    // A sequence, map or optional: the manifest may give its profile, but no type or shape (those describe tensors).
    if (declared && declared.dtype === 'DATA_TYPE_UNSPECIFIED' && !declared.shape) {
      return mf.profile !== 'DATA_PROFILE_UNSPECIFIED' ? { ...f, profile: mf.profile } : f;
    }
    issues.push({
      location: formatPath([...path, declared?.shape && declared.dtype === 'DATA_TYPE_UNSPECIFIED' ? 'shape' : 'type']),
      message: `the model's "${f.name}" is a ${f.type}; a manifest can give its profile, but a type and shape describe tensors only`,
    });
    return undefined;
  }
  const before = issues.length;

  let dtype = model.dtype;
  if (model.dtype === 'DATA_TYPE_UNSPECIFIED') dtype = declared.dtype;
  else if (declared.dtype !== 'DATA_TYPE_UNSPECIFIED' && declared.dtype !== model.dtype) {
    issues.push({
      location: formatPath([...path, 'type']),
      message: `the model's "${f.name}" is ${typeName(model.dtype)}, not ${typeName(declared.dtype)}`,
    });
  }
  const shape = mergeShape(f.name, model.shape, declared.shape, [...path, 'shape'], issues);
  if (issues.length > before) return undefined;

  const profile = mf.profile !== 'DATA_PROFILE_UNSPECIFIED' ? mf.profile : f.profile;
  const part = { ...model, dtype, shape };
  if (f.type === 'tensor') return { ...f, profile, tensor: part };
  if (f.type === 'sparseTensor') return { ...f, profile, sparseTensor: part };
  if (f.type === 'raggedTensor') return { ...f, profile, raggedTensor: { ...f.raggedTensor, dtype, shape } };
  return undefined;
}

function mergeShape(
  name: string,
  model: Shape | null,
  declared: Shape | null,
  path: Segment[],
  issues: ManifestIssue[],
): Shape | null {
  if (!declared) return model;
  if (!model) return declared;
  if (model.dims.length !== declared.dims.length) {
    issues.push({
      location: formatPath(path),
      message: `the model's "${name}" has rank ${model.dims.length} (${shapeText(model)}), not ${declared.dims.length} (${shapeText(declared)})`,
    });
    return model;
  }
  const dims = model.dims.map((a, i): Dim => {
    const b = declared.dims[i];
    const at = formatPath([...path, i]);
    if (a.size >= 0) {
      // A known size stays; the manifest saying "unknown" there is vaguer, not contrary.
      if (b.size >= 0 && b.size !== a.size) {
        issues.push({ location: at, message: `the model's "${name}" has size ${a.size} here, not ${b.size} (${shapeText(model)})` });
      }
      return a;
    }
    if (a.name && b.name && a.name !== b.name) {
      issues.push({ location: at, message: `the model names this dim "${a.name}", not "${b.name}"` });
      return a;
    }
    return { size: b.size >= 0 ? b.size : a.size, name: a.name || b.name };
  });
  return { dims };
}

const typeName = (t: DataType) => t.replace('DATA_TYPE_', '').toLowerCase();

const shapeText = (s: Shape) => `[${s.dims.map((d) => (d.size >= 0 ? d.size : d.name || -1)).join(', ')}]`;
