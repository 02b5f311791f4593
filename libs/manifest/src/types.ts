// The parsed model manifest (kiln.yaml, or Hydrosphere's serving.yaml read unchanged), in Hydrosphere's own terms:
// type and profile names stay names here; @kiln/contract maps them onto the contract model.

/** Hydrosphere's type names (hydro-serving docs "Write definitions", and its CLI's NAME_TO_DTYPES). */
export const MANIFEST_TYPES = [
  'bool',
  'string',
  'half',
  'float16',
  'float32',
  'double',
  'float64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'int8',
  'int16',
  'int32',
  'int64',
  'qint8',
  'quint8',
  'qint16',
  'quint16',
  'qint32',
  'complex64',
  'complex128',
  'variant',
  // Kiln additions: every other kiln.v1.DataType, named as DataType names it (DATA_TYPE_FLOAT8E4M3FN: float8e4m3fn).
  'bfloat16',
  'float8e4m3fn',
  'float8e4m3fnuz',
  'float8e5m2',
  'float8e5m2fnuz',
  'float8e4m3b11fnuz',
  'float8e8m0',
  'float4e2m1',
  'float6e2m3',
  'float6e3m2',
  'int4',
  'uint4',
  'int2',
  'uint2',
  'resource',
] as const;
export type ManifestType = (typeof MANIFEST_TYPES)[number];

/** Hydrosphere's DataProfileType names, lowercased (hydro-serving-protos contract/types.proto). */
export const MANIFEST_PROFILES = [
  'none',
  'categorical',
  'nominal',
  'ordinal',
  'numerical',
  'continuous',
  'interval',
  'ratio',
  'image',
  'video',
  'audio',
  'text',
] as const;
export type ManifestProfile = (typeof MANIFEST_PROFILES)[number];

/** A dim: a size (-1 when unknown), or the symbolic name of an unknown dim (`batch`; a Kiln addition). */
export type ManifestDim = number | string;

/** `scalar` (no dims), or the dims outermost first. */
export type ManifestShape = 'scalar' | ManifestDim[];

export interface ManifestField {
  name: string;
  /** null when the manifest gives no shape (rank unknown). */
  shape: ManifestShape | null;
  /** null when not given: the model's own metadata says it (a manifest that is the only contract must give it). */
  type: ManifestType | null;
  /** null when not given, or given with a name Hydrosphere would not know (then there is a warning). */
  profile: ManifestProfile | null;
}

export interface ManifestSignature {
  /** null when the manifest does not name it: the model's only signature (Hydrosphere's default was `predict`). */
  name: string | null;
  inputs: ManifestField[];
  outputs: ManifestField[];
}

export interface ManifestContract {
  /** 'single': `contract: {name, inputs, outputs}` (Hydrosphere 2.x/3.x); 'keyed': `contract: {<signature>:
   * {inputs, outputs}}` (Hydrosphere 1.x, one or more signatures keyed by name). */
  form: 'single' | 'keyed';
  signatures: ManifestSignature[];
}

/** Something worth telling the uploader that does not stop the upload (an unknown top-level key, say). */
export interface ManifestWarning {
  location: string;
  message: string;
  line?: number;
}

export interface Manifest {
  /** The file the manifest came from (`kiln.yaml`, `serving.yaml`, `upload header`), for messages. */
  sourceName: string;
  kind: 'Model';
  /** The model's name, if the manifest gives one. */
  name: string | null;
  /** The runtime image reference (`hydrosphere/serving-runtime-python-3.7:3.0.0`), or null for a model-only image. */
  runtime: string | null;
  /** The command run while building the image (`install-command`), or null. */
  installCommand: string | null;
  /** The payload globs as written, or null when the manifest has no payload (then every file is the payload). */
  payload: string[] | null;
  contract: ManifestContract | null;
  /** Free-form metadata; numbers and booleans kept as written (`sparkVersion: 2.10` stays "2.10"). */
  metadata: Record<string, string>;
  /** Kiln's labels for filtering versions. */
  labels: Record<string, string>;
  /** Top-level keys Kiln does not use (Hydrosphere's `monitoring`, `training-data`, future fields), kept as parsed. */
  extra: Record<string, unknown>;
  warnings: ManifestWarning[];
}
