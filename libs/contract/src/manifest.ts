// The manifest as a contract source: Hydrosphere's type, shape and profile names mapped onto the contract model.
import type { Manifest, ManifestField, ManifestProfile, ManifestShape, ManifestType } from '@kiln/manifest';
import { dim, field, tensor, unknownDim, type Contract, type DataProfile, type DataType, type Dim } from './types';

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
