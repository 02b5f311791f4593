// Who may call inference: only Kiln services (the registry, by its service identity), so that its reads of stored
// files and server paths cannot be driven by arbitrary clients. The table the authorization interceptor reads.
import type { Policy } from '@kiln/api/auth/policy';

export const INFERENCE_POLICY: Policy = {
  'kiln.v1.Inference/InferContract': { servicesOnly: true },
  'kiln.v1.Inference/InferContractFromUpload': { servicesOnly: true },
};
