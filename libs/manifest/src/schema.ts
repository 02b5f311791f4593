// The manifest's structure as zod schemas, and the translation of zod's issues into ManifestIssues that name the
// field path and say what to write instead.
import { z } from 'zod';
import picomatch from 'picomatch';
import { closest, describe, formatPath, type ManifestIssue, type PathSegment } from './issues';
import { MANIFEST_PROFILES, MANIFEST_TYPES } from './types';

/** Top-level keys Kiln reads. */
export const KILN_KEYS = ['kind', 'name', 'runtime', 'install-command', 'payload', 'contract', 'metadata', 'labels'];
/** Top-level keys of Hydrosphere's model definitions that Kiln keeps but does not use. */
export const HYDROSPHERE_ONLY_KEYS = ['training-data', 'monitoring', 'monitoring-configuration', 'host-selector', 'model-type'];

export const FIELD_KEYS = ['shape', 'type', 'profile'];
export const SINGLE_CONTRACT_KEYS = ['name', 'inputs', 'outputs'];
export const KEYED_SIGNATURE_KEYS = ['inputs', 'outputs'];

/** Hints for keys that are not typos but things people bring from elsewhere. */
const KEY_HINTS: Record<string, string> = {
  fields:
    "nested fields (Hydrosphere's `fields:`) are not supported: describe each tensor as a field of its own",
  dtype: 'the element type is written `type` (float32, int64, string...)',
  signature_name: 'the signature is named with `name`',
};

// Model names become part of image references (see kiln.v1.Model.name).
const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
const DIM_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

// An image reference as the distribution reference grammar defines it: [host[:port]/]path[:tag][@digest].
const REF_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const REF_PORT = '(?::[0-9]+)';
// The first component is a host only with a dot, a port, or as localhost (as Docker decides); else it is a path.
const REF_HOST = `(?:localhost${REF_PORT}?|${REF_LABEL}(?:\\.${REF_LABEL})+${REF_PORT}?|${REF_LABEL}${REF_PORT}|\\[[0-9A-Fa-f:]+\\]${REF_PORT}?)`;
const REF_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REF_TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const REF_DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}';
const IMAGE_REFERENCE = new RegExp(
  `^(?:${REF_HOST}/)?${REF_COMPONENT}(?:/${REF_COMPONENT})*(?::${REF_TAG})?(?:@${REF_DIGEST})?$`,
);

export function isImageReference(ref: string): boolean {
  // Docker's limit is 255 characters for the name; a tag and a digest may follow it.
  return ref.length <= 512 && IMAGE_REFERENCE.test(ref);
}

const scalarText = z.union([z.string(), z.number(), z.boolean()], {
  error: 'must be a string, number or boolean',
});

const nonEmptyString = z.string().min(1, { error: 'must not be empty' });

const payloadEntry = z.string().superRefine((entry, ctx) => {
  const segments = entry.replace(/\\/g, '/').split('/');
  if (entry === '') {
    ctx.addIssue({ code: 'custom', message: 'must not be empty' });
  } else if (entry.startsWith('/') || /^[A-Za-z]:[\\/]/.test(entry)) {
    ctx.addIssue({ code: 'custom', message: `"${entry}" is absolute; payload paths are relative to the archive root` });
  } else if (segments.includes('..')) {
    ctx.addIssue({ code: 'custom', message: `"${entry}" leaves the archive ('..'); payload paths stay inside it` });
  } else {
    try {
      picomatch.makeRe(entry, { dot: true });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" is not a valid glob: ${(err as Error).message}` });
    }
  }
});

export const topLevelSchema = z.looseObject({
  kind: z.literal('Model').optional(),
  name: z
    .string()
    .regex(MODEL_NAME, {
      error:
        "must be lowercase letters, digits, '-', '_' and '.', starting with a letter or digit, at most 128 characters",
    })
    .optional(),
  runtime: z
    .string()
    .refine(isImageReference, { error: 'must be an image reference such as "hydrosphere/serving-runtime-python-3.7:3.0.0"' })
    .optional(),
  'install-command': nonEmptyString.optional(),
  payload: z.array(payloadEntry).optional(),
  contract: z.unknown().optional(),
  metadata: z.record(z.string(), scalarText).optional(),
  labels: z
    .record(
      z.string().regex(LABEL_KEY, {
        error: "must be at most 63 letters, digits, '.', '_', '-' or '/', starting and ending with a letter or digit",
      }),
      scalarText,
    )
    .optional(),
}).superRefine((m, ctx) => {
  // Known at upload, not only when the build runs: a command needs an image to run in.
  if (typeof m['install-command'] === 'string' && m['install-command'].trim() && m.runtime === undefined) {
    ctx.addIssue({ code: 'custom', path: ['install-command'], message: 'needs a `runtime`: the image the command runs in' });
  }
});

const shapeSchema = z.unknown().superRefine((shape, ctx) => {
  if (shape === 'scalar') return;
  if (!Array.isArray(shape)) {
    ctx.addIssue({
      code: 'custom',
      message: `must be "scalar" or a list of dims such as [-1, 28, 28], not ${describe(shape)}`,
    });
    return;
  }
  shape.forEach((d, i) => {
    if (typeof d === 'number' && Number.isInteger(d) && d >= -1) return;
    if (typeof d === 'string' && DIM_NAME.test(d)) return;
    ctx.addIssue({
      code: 'custom',
      path: [i],
      message: `must be a size (a whole number, -1 when unknown) or the name of an unknown dim, not ${describe(d)}`,
    });
  });
});

const typeSchema = z.string().superRefine((type, ctx) => {
  if ((MANIFEST_TYPES as readonly string[]).includes(type)) return;
  const guess = closest(type, MANIFEST_TYPES) ?? (type.toLowerCase() === 'float' ? 'float32' : undefined);
  ctx.addIssue({
    code: 'custom',
    message: `unknown type "${type}"${guess ? `; did you mean "${guess}"?` : ''} (one of ${MANIFEST_TYPES.join(', ')})`,
  });
});

export const fieldSchema = z.strictObject({
  shape: shapeSchema.optional(),
  // Optional: where the model's files give the contract, a manifest field may only add a profile or narrow dims.
  // Without a model contract the type is required; mergeContracts says so (the parser cannot know).
  type: typeSchema.optional(),
  // Profile names are checked leniently in parse.ts: Hydrosphere warned and used NONE for names it did not know.
  profile: z.string().optional(),
});

const fieldsSchema = z.record(nonEmptyString, fieldSchema);

export const singleContractSchema = z.strictObject({
  name: nonEmptyString.optional(),
  inputs: fieldsSchema,
  outputs: fieldsSchema,
});

export const keyedSignatureSchema = z.strictObject({
  inputs: fieldsSchema,
  outputs: fieldsSchema,
});

/** Profile names Hydrosphere's docs used that are not DataProfileType names. */
export const PROFILE_ALIASES: Record<string, (typeof MANIFEST_PROFILES)[number]> = { numeric: 'numerical' };

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'a boolean',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

/** zod's issues as ManifestIssues under `base`; `knownKeys(path)` lists the keys allowed in the object at `path`. */
export function toIssues(
  error: z.ZodError,
  data: unknown,
  base: readonly PathSegment[],
  knownKeys: (path: readonly PropertyKey[]) => readonly string[],
  lineOf: (path: readonly PathSegment[]) => number | undefined = () => undefined,
): ManifestIssue[] {
  const out: ManifestIssue[] = [];
  for (const issue of error.issues) {
    const start = out.length;
    const path = issue.path;
    const full = (p: readonly PropertyKey[]) => [...base, ...(p as PathSegment[])];
    const at = (p: readonly PropertyKey[]) => formatPath(full(p));
    const value = valueAt(data, path);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeys(path);
        for (const key of issue.keys) {
          const guess = closest(key, known);
          const hint = KEY_HINTS[key] ?? (guess ? `did you mean "${guess}"?` : `expected ${known.join(', ')}`);
          out.push({ location: at([...path, key]), message: `unknown key; ${hint}`, line: lineOf(full([...path, key])) });
        }
        break;
      }
      case 'invalid_type':
        out.push({
          location: at(path),
          message:
            value === undefined
              ? 'is required'
              : `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describe(value)}`,
        });
        break;
      case 'invalid_value':
        out.push({
          location: at(path),
          message: `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, not ${describe(value)}`,
        });
        break;
      case 'invalid_key':
        out.push({ location: at(path), message: issue.issues[0]?.message ?? issue.message });
        break;
      default:
        out.push({ location: at(path), message: issue.message });
    }
    for (const i of out.slice(start)) i.line ??= lineOf(full(path));
  }
  return out;
}
