// Who may call the builder: only Kiln services (the registry, by its service identity); builds and alias tags are
// never driven by arbitrary clients. The table the authorization interceptor reads.
import type { Policy } from '@kiln/api/auth/policy';

export const BUILDER_POLICY: Policy = {
  'kiln.v1.Builder/BuildModelVersion': { servicesOnly: true },
  'kiln.v1.Builder/TagModelVersion': { servicesOnly: true },
  'kiln.v1.Builder/UntagModelVersion': { servicesOnly: true },
};
