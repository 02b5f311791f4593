// parseManifest: kiln.yaml or Hydrosphere's serving.yaml text -> a typed Manifest, or one ManifestError listing
// every problem with its field path and line.
import { isMap, isScalar, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { closest, describe, formatPath, ManifestError, type ManifestIssue, type PathSegment } from './issues';
import {
  FIELD_KEYS,
  fieldSchema,
  HYDROSPHERE_ONLY_KEYS,
  KEYED_SIGNATURE_KEYS,
  keyedSignatureSchema,
  KILN_KEYS,
  PROFILE_ALIASES,
  SINGLE_CONTRACT_KEYS,
  singleContractSchema,
  toIssues,
  topLevelSchema,
} from './schema';
import {
  MANIFEST_PROFILES,
  type Manifest,
  type ManifestContract,
  type ManifestField,
  type ManifestProfile,
  type ManifestShape,
  type ManifestSignature,
  type ManifestType,
  type ManifestWarning,
} from './types';
import type { z } from 'zod';

/** A manifest is a few kilobytes; anything this large is not one. */
export const MAX_MANIFEST_BYTES = 256 * 1024;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Parses a model manifest. `sourceName` names where the text came from (`kiln.yaml`, `serving.yaml`,
 * `upload header`) in messages. Throws ManifestError (a KilnError, INVALID_ARGUMENT) listing every problem.
 */
export function parseManifest(text: string, sourceName: string): Manifest {
  if (Buffer.byteLength(text, 'utf8') > MAX_MANIFEST_BYTES) {
    throw new ManifestError([{ location: '', message: `is larger than ${MAX_MANIFEST_BYTES} bytes` }], sourceName);
  }
  const lines = new LineCounter();
  // Hydrosphere's files may hold several definitions (`---`); Kiln reads the one of kind Model.
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (!Array.isArray(docs)) {
    throw new ManifestError([{ location: '', message: 'is empty' }], sourceName);
  }
  const syntax: ManifestIssue[] = docs.flatMap((d) =>
    d.errors.map((e) => ({
      location: '',
      message: `is not valid YAML: ${e.message.split('\n')[0]}`,
      line: lines.linePos(e.pos[0]).line || 1,
    })),
  );
  if (syntax.length) throw new ManifestError(syntax, sourceName);

  const warnings: ManifestWarning[] = [];
  const doc = pickModelDocument(docs, sourceName, lines, warnings);
  let data: unknown;
  try {
    data = withScalarSource(doc, doc.toJS({ maxAliasCount: 100 }) as unknown);
  } catch (err) {
    // toJS refuses alias bombs (an alias expanding into too many nodes) with a plain error.
    throw new ManifestError([{ location: '', message: `cannot be read: ${(err as Error).message}` }], sourceName);
  }
  const lineOf = (path: readonly PathSegment[]) => lineAt(doc, lines, path);

  if (!isObject(data)) {
    throw new ManifestError(
      [{ location: '', message: `must be a mapping of keys (kind, name, runtime, payload, contract...), not ${describe(data)}`, line: 1 }],
      sourceName,
    );
  }

  const issues: ManifestIssue[] = [];
  const top = topLevelSchema.safeParse(data);
  if (!top.success) issues.push(...toIssues(top.error, data, [], () => KILN_KEYS, lineOf));
  const contract = parseContract(data.contract, issues, warnings, lineOf);

  const extra: Record<string, unknown> = {};
  for (const key of Object.keys(data)) {
    if (KILN_KEYS.includes(key)) continue;
    extra[key] = data[key];
    const guess = closest(key, KILN_KEYS);
    warnings.push({
      location: formatPath([key]),
      line: lineOf([key]),
      message: HYDROSPHERE_ONLY_KEYS.includes(key)
        ? `Hydrosphere's "${key}" is not used by Kiln; kept as given`
        : `unknown key, kept but not used${guess ? `; did you mean "${guess}"?` : ''}`,
    });
  }

  if (issues.length || !top.success) {
    sortByLine(issues);
    throw new ManifestError(issues, sourceName);
  }
  sortByLine(warnings);

  const t = top.data;
  return {
    sourceName,
    kind: 'Model',
    name: t.name ?? null,
    runtime: t.runtime ?? null,
    installCommand: t['install-command'] ?? null,
    payload: t.payload ?? null,
    contract,
    metadata: stringMap(t.metadata),
    labels: stringMap(t.labels),
    extra,
    warnings,
  };
}

function pickModelDocument(
  docs: Document.Parsed[],
  sourceName: string,
  lines: LineCounter,
  warnings: ManifestWarning[],
): Document.Parsed {
  const present = docs.filter((d) => d.contents !== null);
  if (present.length === 0) throw new ManifestError([{ location: '', message: 'is empty' }], sourceName);
  if (present.length === 1) return present[0];
  const kindOf = (d: Document.Parsed) => {
    const k = isMap(d.contents) ? d.contents.get('kind') : undefined;
    return typeof k === 'string' ? k : undefined;
  };
  const models = present.filter((d) => kindOf(d) === 'Model' || kindOf(d) === undefined);
  const lineOfDoc = (d: Document.Parsed) => lines.linePos((d.contents?.range ?? d.range)[0]).line || 1;
  if (models.length !== 1) {
    throw new ManifestError(
      [
        {
          location: 'kind',
          message: models.length
            ? `the file holds ${models.length} model definitions (lines ${models.map(lineOfDoc).join(', ')}); upload one model per manifest`
            : `the file holds no definition of kind Model (found ${present.map((d) => kindOf(d)).join(', ')})`,
          line: lineOfDoc(models[1] ?? present[0]),
        },
      ],
      sourceName,
    );
  }
  for (const d of present) {
    if (d !== models[0]) {
      warnings.push({ location: '', message: `definition of kind ${kindOf(d)} ignored`, line: lineOfDoc(d) });
    }
  }
  return models[0];
}

/** Metadata and label values as written: YAML reads `2.10` as the number 2.1, but a version string it was. */
function withScalarSource(doc: Document.Parsed, data: unknown): unknown {
  if (!isObject(data) || !isMap(doc.contents)) return data;
  for (const key of ['metadata', 'labels']) {
    const node: unknown = doc.contents.get(key, true);
    const values = data[key];
    if (!isMap(node) || !isObject(values)) continue;
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
      const v = pair.value;
      if (k !== undefined && isScalar(v) && (typeof v.value === 'number' || typeof v.value === 'boolean')) {
        values[k] = v.source ?? String(v.value);
      }
    }
  }
  return data;
}

type LineOf = (path: readonly PathSegment[]) => number | undefined;

function parseContract(
  raw: unknown,
  issues: ManifestIssue[],
  warnings: ManifestWarning[],
  lineOf: LineOf,
): ManifestContract | null {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw)) {
    issues.push({
      location: 'contract',
      message: `must be a mapping with inputs and outputs, not ${describe(raw)}`,
      line: lineOf(['contract']),
    });
    return null;
  }
  // Hydrosphere 1.x keyed signatures by name (`contract: {predict: {inputs, outputs}}`); 2.x and 3.x have one
  // signature (`contract: {name, inputs, outputs}`). A key named inputs/outputs, or a string name, means the latter.
  const keys = Object.keys(raw);
  const keyed =
    keys.length > 0 &&
    !('inputs' in raw) &&
    !('outputs' in raw) &&
    typeof raw.name !== 'string' &&
    keys.every((k) => isObject(raw[k]) && ('inputs' in raw[k] || 'outputs' in raw[k]));

  const bodies: Array<{ name: string | null; body: Json; base: PathSegment[] }> = [];
  if (keyed) {
    for (const name of keys) {
      const body = raw[name] as Json;
      const r = keyedSignatureSchema.safeParse(body);
      if (!r.success) issues.push(...toIssues(r.error, body, ['contract', name], fieldKeysOr(KEYED_SIGNATURE_KEYS), lineOf));
      bodies.push({ name, body, base: ['contract', name] });
    }
  } else {
    const r = singleContractSchema.safeParse(raw);
    if (!r.success) issues.push(...toIssues(r.error, raw, ['contract'], fieldKeysOr(SINGLE_CONTRACT_KEYS), lineOf));
    bodies.push({ name: typeof raw.name === 'string' && raw.name ? raw.name : null, body: raw, base: ['contract'] });
  }
  if (issues.length) return null;

  const signatures: ManifestSignature[] = bodies.map(({ name, body, base }) => ({
    name,
    inputs: fields(body.inputs as Json, [...base, 'inputs'], warnings, lineOf),
    outputs: fields(body.outputs as Json, [...base, 'outputs'], warnings, lineOf),
  }));
  return { form: keyed ? 'keyed' : 'single', signatures };
}

/** Field objects sit at `inputs.<name>` / `outputs.<name>`; anything shallower is the signature itself. */
const fieldKeysOr = (signatureKeys: readonly string[]) => (path: readonly PropertyKey[]) =>
  path.length >= 2 ? FIELD_KEYS : signatureKeys;

function fields(raw: Json, base: PathSegment[], warnings: ManifestWarning[], lineOf: LineOf): ManifestField[] {
  return Object.entries(raw).map(([name, value]) => {
    const f = value as z.infer<typeof fieldSchema>;
    return {
      name,
      shape: (f.shape ?? null) as ManifestShape | null,
      type: (f.type ?? null) as ManifestType | null,
      profile: profile(f.profile, [...base, name, 'profile'], warnings, lineOf),
    };
  });
}

function profile(
  raw: string | undefined,
  path: PathSegment[],
  warnings: ManifestWarning[],
  lineOf: LineOf,
): ManifestProfile | null {
  if (raw === undefined) return null;
  const name = raw.toLowerCase();
  if ((MANIFEST_PROFILES as readonly string[]).includes(name)) return name as ManifestProfile;
  if (name in PROFILE_ALIASES) return PROFILE_ALIASES[name];
  // Hydrosphere's CLI warned and used NONE for a profile it did not know; so does Kiln, to read its files unchanged.
  const guess = closest(name, MANIFEST_PROFILES);
  warnings.push({
    location: formatPath(path),
    line: lineOf(path),
    message: `unknown profile "${raw}", ignored${guess ? `; did you mean "${guess}"?` : ''} (one of ${MANIFEST_PROFILES.join(', ')})`,
  });
  return null;
}

function stringMap(m: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, String(v)]));
}

/** The line of the deepest node that exists along `path`. */
function lineAt(doc: Document.Parsed, lines: LineCounter, path: readonly PathSegment[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lines.linePos(range[0]).line || 1;
  }
  return undefined;
}

function sortByLine<T extends { line?: number }>(items: T[]): void {
  items.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
}
