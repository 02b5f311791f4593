// How a request names a version, resolved in one place for every RPC that reads one: a number (0 for the newest
// visible), or an alias; and the NOT_FOUND that says which of model, version or alias is missing (or when it was
// deleted).
import { invalidArgument, notFound } from '@kiln/errors';
import { resolveAlias, type AliasDeps } from './aliases';
import type { VersionRecord, VersionStore } from './store';

/** The version, visible (not deleted); `model` in its canonical form (see canonicalModelName). */
export async function requireVersion(store: VersionStore, model: string, version: number, where: string): Promise<VersionRecord> {
  if (version < 0) throw invalidArgument('version must not be negative', `${where}.version`);
  const record = await store.getVersion(model, version);
  if (record) return record;
  if (!(await store.modelExists(model))) throw notFound(`model ${model} does not exist`);
  const deleted = version > 0 ? await store.getVersion(model, version, true) : null;
  if (deleted?.deleteTime) throw notFound(`model ${model} version ${version} was deleted at ${deleted.deleteTime.toISOString()}`);
  throw notFound(version ? `model ${model} has no version ${version}` : `model ${model} has no versions`);
}

/** The version number a request names: its number, or its alias's (the newest with neither). */
export async function versionNamed(deps: Pick<AliasDeps, 'store' | 'cache'>, model: string, request: { version: number; alias: string }, where: string): Promise<number> {
  if (!request.alias) return request.version;
  if (request.version) throw invalidArgument('give a version or an alias, not both', `${where}.alias`);
  return resolveAlias(deps, model, request.alias, `${where}.alias`);
}
