// The manifest as a contract source: Hydrosphere's type, shape and profile names mapped onto the contract model, and
// Hydrosphere's contract.prototxt read as the same kind of written-down contract.
import { KilnError } from '@kiln/errors';
import { MANIFEST_PROFILES, type Manifest, type ManifestField, type ManifestProfile, type ManifestShape, type ManifestType } from '@kiln/manifest';
import { TF_DTYPE_NUMBERS, tfDataType } from './dtypes';
import type { ContractFormat, FileEntry } from './format';
import { parseTextMessage } from './savedmodel-pbtxt';
import type { ModelFiles } from './source';
import { dim, field, tensor, unknownDim, type Contract, type DataProfile, type DataType, type Dim, type InferenceResult } from './types';
import { schema } from './wire';

/** Hydrosphere's type names (the DT_* they stood for) as Kiln DataTypes; DT_HALF is FLOAT16. */
export const MANIFEST_DATA_TYPES: Record<ManifestType, DataType> = {
  bool: 'DATA_TYPE_BOOL',
  string: 'DATA_TYPE_STRING',
  half: 'DATA_TYPE_FLOAT16',
  float16: 'DATA_TYPE_FLOAT16',
  float32: 'DATA_TYPE_FLOAT',
  double: 'DATA_TYPE_DOUBLE',
  float64: 'DATA_TYPE_DOUBLE',
  uint8: 'DATA_TYPE_UINT8',
  uint16: 'DATA_TYPE_UINT16',
  uint32: 'DATA_TYPE_UINT32',
  uint64: 'DATA_TYPE_UINT64',
  int8: 'DATA_TYPE_INT8',
  int16: 'DATA_TYPE_INT16',
  int32: 'DATA_TYPE_INT32',
  int64: 'DATA_TYPE_INT64',
  qint8: 'DATA_TYPE_QINT8',
  quint8: 'DATA_TYPE_QUINT8',
  qint16: 'DATA_TYPE_QINT16',
  quint16: 'DATA_TYPE_QUINT16',
  qint32: 'DATA_TYPE_QINT32',
  complex64: 'DATA_TYPE_COMPLEX64',
  complex128: 'DATA_TYPE_COMPLEX128',
  variant: 'DATA_TYPE_VARIANT',
  bfloat16: 'DATA_TYPE_BFLOAT16',
  float8e4m3fn: 'DATA_TYPE_FLOAT8E4M3FN',
  float8e4m3fnuz: 'DATA_TYPE_FLOAT8E4M3FNUZ',
  float8e5m2: 'DATA_TYPE_FLOAT8E5M2',
  float8e5m2fnuz: 'DATA_TYPE_FLOAT8E5M2FNUZ',
  float8e4m3b11fnuz: 'DATA_TYPE_FLOAT8E4M3B11FNUZ',
  float8e8m0: 'DATA_TYPE_FLOAT8E8M0',
  float4e2m1: 'DATA_TYPE_FLOAT4E2M1',
  float6e2m3: 'DATA_TYPE_FLOAT6E2M3',
  float6e3m2: 'DATA_TYPE_FLOAT6E3M2',
  int4: 'DATA_TYPE_INT4',
  uint4: 'DATA_TYPE_UINT4',
  int2: 'DATA_TYPE_INT2',
  uint2: 'DATA_TYPE_UINT2',
  resource: 'DATA_TYPE_RESOURCE',
};

/** Hydrosphere's DataProfileType names onto Kiln's coarser DataProfile: its sub-kinds fold into their family. */
export const MANIFEST_DATA_PROFILES: Record<ManifestProfile, DataProfile> = {
  none: 'DATA_PROFILE_UNSPECIFIED',
  categorical: 'DATA_PROFILE_CATEGORICAL',
  nominal: 'DATA_PROFILE_CATEGORICAL',
  ordinal: 'DATA_PROFILE_ORDINAL',
  numerical: 'DATA_PROFILE_NUMERICAL',
  continuous: 'DATA_PROFILE_NUMERICAL',
  interval: 'DATA_PROFILE_NUMERICAL',
  ratio: 'DATA_PROFILE_NUMERICAL',
  image: 'DATA_PROFILE_IMAGE',
  video: 'DATA_PROFILE_VIDEO',
  audio: 'DATA_PROFILE_AUDIO',
  text: 'DATA_PROFILE_TEXT',
};

/** What a signature the manifest does not name is called when there is no inferred contract (Hydrosphere 3.x). */
export const DEFAULT_SIGNATURE_NAME = 'predict';

/**
 * The contract a manifest declares (source 'manifest'), or null when it declares none. A signature the manifest
 * leaves unnamed gets the name '' here: mergeContracts matches it to the model's only signature, or names it
 * DEFAULT_SIGNATURE_NAME when the model has no contract of its own. Use the result through mergeContracts.
 */
export function contractFromManifest(manifest: Pick<Manifest, 'contract'>): Contract | null {
  if (!manifest.contract) return null;
  return {
    source: 'manifest',
    signatures: manifest.contract.signatures.map((s) => ({
      name: s.name ?? '',
      method: '',
      inputs: s.inputs.map(toField),
      outputs: s.outputs.map(toField),
      tags: [],
    })),
  };
}

function toField(f: ManifestField) {
  return field(
    f.name,
    // No type: DATA_TYPE_UNSPECIFIED, filled from the model by mergeContracts (which requires it when there is none).
    tensor(f.type ? MANIFEST_DATA_TYPES[f.type] : 'DATA_TYPE_UNSPECIFIED', toDims(f.shape)),
    f.profile ? MANIFEST_DATA_PROFILES[f.profile] : 'DATA_PROFILE_UNSPECIFIED',
  );
}

function toDims(shape: ManifestShape | null): Dim[] | null {
  if (shape === null) return null;
  if (shape === 'scalar') return [];
  return shape.map((d) => (typeof d === 'string' ? unknownDim(d) : d < 0 ? unknownDim() : dim(d)));
}

// ------------------------------------------------------------------------------------------------ contract.prototxt

/** Hydrosphere's ModelContract as its CLI wrote it beside a model (`contract.prototxt`, protobuf text format): 2.x has
 * one `predict` signature, 1.x a list of `signatures`. Only names matter in text format, so the field numbers here
 * are placeholders; DataType is TensorFlow's (Hydrosphere copied it). */
const hydroRoot = schema(`
syntax = "proto3";
package hydrosphere;
message ModelContract { string model_name = 1; repeated ModelSignature signatures = 2; ModelSignature predict = 3; }
message ModelSignature { string signature_name = 1; repeated ModelField inputs = 2; repeated ModelField outputs = 3; }
message ModelField {
  string name = 1;
  TensorShapeProto shape = 2;
  Subfields subfields = 3;
  DataType dtype = 4;
  DataProfileType profile = 5;
}
message Subfields { repeated ModelField data = 1; }
message TensorShapeProto { message Dim { int64 size = 1; string name = 2; } repeated Dim dim = 2; bool unknown_rank = 3; }
enum DataProfileType { ${MANIFEST_PROFILES.map((p, i) => `${p.toUpperCase()} = ${i};`).join(' ')} }
enum DataType { ${Object.entries(TF_DTYPE_NUMBERS).map(([k, v]) => `${k} = ${v};`).join(' ')} }
`);

interface HydroField {
  name?: string;
  shape?: { dim?: Array<{ size?: number; name?: string }>; unknown_rank?: boolean };
  subfields?: object;
  dtype?: number;
  profile?: number;
}
interface HydroSignature {
  signature_name?: string;
  inputs?: HydroField[];
  outputs?: HydroField[];
}

export const CONTRACT_PROTOTXT = 'contract.prototxt';

/** The shallowest contract.prototxt; several at that depth are ambiguous. */
function pickContractFile(files: FileEntry[]): string | undefined {
  const found = files.map((f) => f.path).filter((p) => p === CONTRACT_PROTOTXT || p.endsWith(`/${CONTRACT_PROTOTXT}`));
  if (!found.length) return undefined;
  const depth = (p: string) => p.split('/').length;
  const top = found.filter((p) => depth(p) === Math.min(...found.map(depth)));
  if (top.length > 1) throw new KilnError('INVALID_ARGUMENT', `several ${CONTRACT_PROTOTXT} files: ${top.join(', ')}`);
  return top[0];
}

/** Hydrosphere models with nothing to infer (scikit-learn, plain Python) carried their contract in contract.prototxt:
 * read as the contract it writes down, like a manifest's (source `manifest`). */
export const hydrosphereContractFormat: ContractFormat = {
  name: 'manifest',
  detect: (files) => {
    try {
      return pickContractFile(files) !== undefined;
    } catch {
      return true; // infer() says what is ambiguous
    }
  },
  async infer(files: ModelFiles): Promise<InferenceResult> {
    const path = pickContractFile(await files.list());
    if (!path) throw new KilnError('INVALID_ARGUMENT', `no ${CONTRACT_PROTOTXT} in the model`);
    const file = await files.open(path);
    const msg = (await parseTextMessage(file, hydroRoot, 'hydrosphere.ModelContract')) as {
      signatures?: HydroSignature[];
      predict?: HydroSignature;
    };
    const sigs = [...(msg.predict ? [msg.predict] : []), ...(msg.signatures ?? [])];
    const toFields = (list: HydroField[] | undefined, where: string) =>
      (list ?? []).map((f, i) => {
        if (f.subfields) {
          throw new KilnError('INVALID_ARGUMENT', 'nested fields (subfields) are not supported: describe each tensor as a field of its own', `${path}: ${where}[${i}]`);
        }
        // Hydrosphere's absent shape is a scalar; unknown_rank is an unknown rank.
        const dims = f.shape?.unknown_rank ? null : (f.shape?.dim ?? []).map((d) => ((d.size ?? 0) < 0 ? unknownDim(d.name ?? '') : dim(d.size ?? 0, d.name ?? '')));
        const profile = MANIFEST_PROFILES[f.profile ?? 0];
        return field(f.name ?? '', tensor(tfDataType(f.dtype ?? 0), dims), profile ? MANIFEST_DATA_PROFILES[profile] : 'DATA_PROFILE_UNSPECIFIED');
      });
    return {
      contract: {
        source: 'manifest',
        signatures: sigs.map((s, i) => ({
          name: s.signature_name || DEFAULT_SIGNATURE_NAME,
          method: '',
          inputs: toFields(s.inputs, `signatures[${i}].inputs`),
          outputs: toFields(s.outputs, `signatures[${i}].outputs`),
          tags: [],
        })),
      },
      metadata: { 'manifest.file': path },
    };
  },
};
