// Who may call what on the registry: every RPC, the role it needs and where the request's namespace is. The one
// table the authorization interceptor (@kiln/api/interceptors/authorization) reads; no handler checks rights.
import { EVERY_NAMESPACE, type Policy } from '@kiln/api/auth/policy';
import type { Role } from '@kiln/api/context';
import { namespaceOf } from './names';

const ofModel = (request: { model?: string }) => namespaceOf(request.model ?? '');

/**
 * ListModels names no model: with a namespace filter (or a name prefix inside one namespace, `fraud/`) it needs
 * reader there; without one it lists every namespace and needs reader on `*`. (A caller reading only some namespaces
 * lists with a filter: the list is never silently cut to what it may see.)
 */
function ofListing(request: { namespace?: string; namePrefix?: string }): string {
  if (request.namespace) return request.namespace;
  const prefix = request.namePrefix ?? '';
  return prefix.includes('/') ? namespaceOf(prefix) : EVERY_NAMESPACE;
}

const everywhere = () => EVERY_NAMESPACE;

export const REGISTRY_POLICY: Policy = {
  'kiln.v1.Registry/GetModelVersion': { role: 'reader', namespace: ofModel },
  'kiln.v1.Registry/ListModels': { role: 'reader', namespace: ofListing },
  'kiln.v1.Registry/ListModelVersions': { role: 'reader', namespace: ofModel },
  'kiln.v1.Registry/WatchModelVersion': { role: 'reader', namespace: ofModel },
  'kiln.v1.Registry/DownloadModelVersion': { role: 'reader', namespace: ofModel },
  // A client stream: its first message, the header, names the model.
  'kiln.v1.Registry/UploadModel': { role: 'writer', namespace: (first: { header?: { model?: string } }) => ofModel(first.header ?? {}) },
  'kiln.v1.Registry/DeleteModelVersion': { role: 'maintainer', namespace: ofModel },
  'kiln.v1.Registry/CreateToken': { role: 'admin', namespace: everywhere },
  'kiln.v1.Registry/ListTokens': { role: 'admin', namespace: everywhere },
  'kiln.v1.Registry/RevokeToken': { role: 'admin', namespace: everywhere },
  'kiln.v1.Registry/ListAuditEvents': { role: 'admin', namespace: everywhere },
  'kiln.v1.Registry/SetModelAlias': { role: 'maintainer', namespace: ofModel },
  'kiln.v1.Registry/DeleteModelAlias': { role: 'maintainer', namespace: ofModel },
  'kiln.v1.Registry/ListModelAliases': { role: 'reader', namespace: ofModel },
  'kiln.v1.Registry/ListAliasHistory': { role: 'reader', namespace: ofModel },
  'kiln.v1.Registry/UpdateModelVersion': { role: 'maintainer', namespace: ofModel },
  // Like ListModels: one model's events need reader in its namespace, a namespace's there, all of them on `*`.
  // The candidate, when it is another namespace's version, needs reader there too (asked by the handler).
  'kiln.v1.Registry/DiffContracts': { role: 'reader', namespace: (r: { against?: { model?: string } }) => ofModel(r.against ?? {}) },
  'kiln.v1.Registry/WatchModels': { role: 'reader', namespace: (r: { model?: string; namespace?: string }) => (r.model ? ofModel(r) : r.namespace || EVERY_NAMESPACE) },
  // A webhook sends events out of the registry to a URL (and its allow-list guards the network): admin on every
  // namespace, as tokens are, whatever its filter.
  'kiln.v1.Registry/CreateWebhook': { role: 'admin', namespace: everywhere },
  'kiln.v1.Registry/ListWebhooks': { role: 'admin', namespace: everywhere },
  'kiln.v1.Registry/DeleteWebhook': { role: 'admin', namespace: everywhere },
  'kiln.v1.Registry/EnableWebhook': { role: 'admin', namespace: everywhere },
  'kiln.v1.Registry/ListWebhookDeliveries': { role: 'admin', namespace: everywhere },
};

/** Moving, deleting, protecting or unprotecting a protected alias takes this role in the model's namespace, beyond
 * the maintainer SetModelAlias and DeleteModelAlias need (asked through HandlerContext.requireRole). */
export const PROTECTED_ALIAS_ROLE: Role = 'admin';
