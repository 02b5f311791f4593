// @kiln/manifest: the model manifest (kiln.yaml, or Hydrosphere's serving.yaml unchanged): parse, validate, and
// tell which archive files its payload selects.
export { parseManifest, MAX_MANIFEST_BYTES } from './parse';
export { payloadMatcher, unmatchedPayload } from './payload';
export { formatPath, ManifestError, type ManifestIssue } from './issues';
export { isImageReference } from './schema';
export {
  MANIFEST_PROFILES,
  MANIFEST_TYPES,
  type Manifest,
  type ManifestContract,
  type ManifestDim,
  type ManifestField,
  type ManifestProfile,
  type ManifestShape,
  type ManifestSignature,
  type ManifestType,
  type ManifestWarning,
} from './types';
