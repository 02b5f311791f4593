// The kiln.v1.Registry alias RPCs (SetModelAlias, DeleteModelAlias, ListModelAliases, ListAliasHistory): validation
// and conversion at the edge; the rules are aliases.ts's. Who may call them is the policy table's (policy.ts).
import type { RegistryImplementation } from '@kiln/api/handlers';
import type { AliasMove } from '@kiln/api/generated/kiln/v1/AliasMove';
import type { ModelAlias } from '@kiln/api/generated/kiln/v1/ModelAlias';
import { toTimestamp } from '@kiln/api/timestamp';
import { notFound } from '@kiln/errors';
import { aliasImageReference, deleteAlias, setAlias, validateAlias, type AliasDeps } from './aliases';
import { decodePageToken, encodePageToken, pageSize } from './convert';
import { canonicalModelName } from './names';
import type { AliasMoveRecord, AliasRecord } from './store';

export function aliasToProto(a: AliasRecord): ModelAlias {
  return {
    model: a.model,
    alias: a.alias,
    version: a.version,
    protected: a.protected,
    updateTime: toTimestamp(a.updateTime),
    updatedBy: a.updatedBy,
    imageReference: aliasImageReference(a.versionImageReference, a.alias),
    tagPending: a.tagPending,
    tagError: a.tagError,
  };
}

function moveToProto(m: AliasMoveRecord): AliasMove {
  return {
    alias: m.alias,
    fromVersion: m.fromVersion,
    toVersion: m.toVersion,
    caller: m.caller,
    time: toTimestamp(m.time),
    reason: m.reason,
    breaking: m.breaking,
    protected: m.protected,
  };
}

type AliasRpcs = Pick<RegistryImplementation, 'SetModelAlias' | 'DeleteModelAlias' | 'ListModelAliases' | 'ListAliasHistory'>;

export function aliasHandlers(deps: AliasDeps): AliasRpcs {
  const { store } = deps;
  return {
    async SetModelAlias(request, context) {
      const model = canonicalModelName(request.model, 'SetModelAliasRequest.model');
      return aliasToProto(await setAlias(deps, context, {
        model, alias: request.alias, version: request.version, protected: request.protected,
        allowBreakingChanges: request.allowBreakingChanges, reason: request.reason,
      }));
    },

    async DeleteModelAlias(request, context) {
      const model = canonicalModelName(request.model, 'DeleteModelAliasRequest.model');
      return aliasToProto(await deleteAlias(deps, context, { model, alias: request.alias, reason: request.reason }));
    },

    async ListModelAliases(request) {
      const model = canonicalModelName(request.model, 'ListModelAliasesRequest.model');
      if (!(await store.modelExists(model))) throw notFound(`model ${model} does not exist`);
      return { aliases: (await store.listAliases(model)).map(aliasToProto) };
    },

    async ListAliasHistory(request) {
      const where = 'ListAliasHistoryRequest';
      const model = canonicalModelName(request.model, `${where}.model`);
      const alias = request.alias ? validateAlias(request.alias, `${where}.alias`) : undefined;
      const size = pageSize(request.pageSize, `${where}.page_size`);
      const before = decodePageToken<number>(request.pageToken, 'number', `${where}.page_token`);
      if (!(await store.modelExists(model))) throw notFound(`model ${model} does not exist`);
      const moves = await store.aliasHistory({ model, alias, pageSize: size + 1, beforeId: before });
      const page = moves.slice(0, size);
      return {
        moves: page.map(moveToProto),
        nextPageToken: moves.length > size ? encodePageToken(page[page.length - 1].id) : '',
      };
    },
  };
}
