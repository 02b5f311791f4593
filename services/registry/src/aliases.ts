// Aliases' rules, in one place: their names, what they may point at (lifecycle.ts: a released version), who may
// move a protected one, the history and audit record of every move (in the move's transaction), and the image tag
// that follows each alias, moved after the commit and retried while it is pending.
import { failedPrecondition, invalidArgument, notFound } from '@kiln/errors';
import type { HandlerContext } from '@kiln/api/context';
import type { Logger } from '@kiln/log';
import { auditEvent } from './audit';
import { callerName } from '@kiln/api/context';
import { canBeAliased } from './lifecycle';
import { namespaceOf } from './names';
import { PROTECTED_ALIAS_ROLE } from './policy';
import type { AliasRecord, RegistryStore, StoreTransaction, VersionRecord } from './store';
import { diffContracts, type ContractChange } from '@kiln/contract/diff';
import type { VersionCache } from './version-cache';
import type { VersionEvents } from './events';
import { aliasChanged as aliasEvent } from './event-log';

/** An image tag's rules (the alias is one), starting with a letter: a tag of digits only is a version's. */
const ALIAS_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,127}$/;
/** `latest` means the newest version everywhere in Kiln (`kiln get fraud`), and is a tag Docker treats specially. */
const RESERVED_ALIASES = new Set(['latest']);
const MAX_REASON_LENGTH = 1024;

export function validateAlias(alias: string, where: string): string {
  if (!alias) throw invalidArgument('the alias is empty', where);
  if (!ALIAS_NAME.test(alias)) {
    throw invalidArgument(`alias ${JSON.stringify(alias.slice(0, 200))} is not valid: a letter, then letters, digits, '.', '_' or '-', at most 128 characters`, where);
  }
  if (RESERVED_ALIASES.has(alias)) throw invalidArgument(`the alias ${alias} is kept for the newest version`, where);
  return alias;
}

function validateReason(reason: string, where: string): string {
  if (reason.length > MAX_REASON_LENGTH) throw invalidArgument(`at most ${MAX_REASON_LENGTH} characters`, where);
  return reason;
}

/** The image reference of an alias's tag: the version's image with the alias as its tag. */
export function aliasImageReference(versionImageReference: string, alias: string): string {
  if (!versionImageReference) return '';
  const repositoryEnd = versionImageReference.lastIndexOf(':');
  // A colon before the last slash is a registry's port, not a tag.
  const repository = repositoryEnd > versionImageReference.lastIndexOf('/') ? versionImageReference.slice(0, repositoryEnd) : versionImageReference;
  return `${repository}:${alias}`;
}

/** Points an image tag at a version's image (the builder's TagModelVersion). */
export type TagMover = (alias: { model: string; version: number; alias: string; imageReference: string; imageDigest: string }) => Promise<void>;

/** What aliases need of the version cache: where aliases point, and forgetting the versions a move changes. */
export type AliasCache = Pick<VersionCache<object>, 'aliasVersion' | 'putAlias' | 'evictAlias' | 'evict' | 'generation'>;

export interface AliasDeps {
  store: RegistryStore;
  cache: AliasCache;
  log: Logger;
  /** Absent when no builder can move tags: the tags stay pending. */
  moveTag?: TagMover;
  /** Removes a deleted alias's tag where the sink can (an OCI layout; a registry keeps it): best effort. */
  removeTag?: (alias: { model: string; alias: string; imageDigest: string }) => Promise<void>;
  /** Told of each change once committed (watchers, the event tail). */
  events?: Pick<VersionEvents, 'notify'>;
}

export interface SetAliasInput {
  model: string;
  alias: string;
  version: number;
  protected: boolean;
  allowBreakingChanges: boolean;
  reason: string;
}

const WHERE_SET = 'SetModelAliasRequest';
const WHERE_DELETE = 'DeleteModelAliasRequest';

/** Creates or moves an alias atomically (its history and audit record with it), then moves its image tag. */
export async function setAlias(deps: AliasDeps, context: HandlerContext, input: SetAliasInput): Promise<AliasRecord> {
  const alias = validateAlias(input.alias, `${WHERE_SET}.alias`);
  const reason = validateReason(input.reason, `${WHERE_SET}.reason`);
  if (input.version <= 0) throw invalidArgument('give the version the alias points at', `${WHERE_SET}.version`);
  const { model, version } = input;
  const moved = await deps.store.inTransaction(async (tx) => {
    const current = await tx.lockAlias(model, alias);
    if (current?.protected || input.protected !== (current?.protected ?? false)) {
      const what = current?.protected ? `moving the protected alias ${alias}` : `${input.protected ? 'protecting' : 'unprotecting'} the alias ${alias}`;
      context.requireRole(PROTECTED_ALIAS_ROLE, namespaceOf(model), what);
    }
    // Locked until the commit: a concurrent delete of the version waits, then finds the alias and refuses.
    const target = await tx.lockVersion(model, version);
    if (!target || target.status === 'DELETED') throw notFound(`model ${model} has no version ${version}`, `${WHERE_SET}.version`);
    if (!canBeAliased(target.status)) {
      throw failedPrecondition(`version ${version} of ${model} is ${target.status}: an alias points only at a RELEASED version`, `${WHERE_SET}.version`);
    }
    if (current?.version === version && current.protected === input.protected) return undefined; // already so: nothing to record
    // A protected alias moves only to a compatible contract, unless the call allows the breaking changes (recorded).
    const breaking = current?.protected && current.version !== version ? await breakingChanges(tx, current, target) : [];
    const breaks = breaking.map((c) => `${c.path}: ${c.message}`).join('; ');
    if (breaking.length && !input.allowBreakingChanges) {
      throw failedPrecondition(
        `${model}@${alias} is protected and version ${version}'s contract breaks version ${current!.version}'s: ${breaks} ` +
        '(set allow_breaking_changes, kiln alias set --allow-breaking, to move it anyway)', `${WHERE_SET}.version`);
    }
    const caller = callerName(context.caller);
    const move = { model, alias, fromVersion: current?.version ?? 0, toVersion: version, caller, reason, breaking: breaking.length > 0, protected: input.protected };
    const allowed = breaking.length ? `, allowing ${breaking.length} breaking change${breaking.length === 1 ? '' : 's'} (${breaks})` : '';
    await tx.putAlias({ model, alias, version, protected: input.protected, updatedBy: caller }, move);
    await tx.recordAuditEvent(auditEvent(context, {
      model, version, message: `${current ? `moved alias ${alias} from version ${current.version}` : `created alias ${alias}`} to version ${version}${input.protected ? ' (protected)' : ''}${allowed}${reason ? `: ${reason}` : ''}`,
    }));
    await changed(tx, model, alias, current?.version, version);
    await tx.recordEvent(aliasEvent({ model, alias, version }, current?.version, caller, target));
    return { from: current?.version };
  });
  if (moved) {
    deps.events?.notify(model, version);
    forget(deps.cache, model, alias, moved.from, version);
  }
  const after = (await deps.store.getAlias(model, alias))!;
  if (after.tagPending) await moveTag(deps, after);
  return (await deps.store.getAlias(model, alias)) ?? after;
}

/** Deletes an alias (its history stays); returns it as it was. */
export async function deleteAlias(deps: AliasDeps, context: HandlerContext, input: { model: string; alias: string; reason: string }): Promise<AliasRecord> {
  const alias = validateAlias(input.alias, `${WHERE_DELETE}.alias`);
  const reason = validateReason(input.reason, `${WHERE_DELETE}.reason`);
  const { model } = input;
  const deleted = await deps.store.inTransaction(async (tx) => {
    const current = await tx.lockAlias(model, alias);
    if (!current) throw notFound(`model ${model} has no alias ${alias}`, `${WHERE_DELETE}.alias`);
    if (current.protected) context.requireRole(PROTECTED_ALIAS_ROLE, namespaceOf(model), `deleting the protected alias ${alias}`);
    const caller = callerName(context.caller);
    await tx.deleteAlias(model, alias, { model, alias, fromVersion: current.version, toVersion: 0, caller, reason, breaking: false, protected: current.protected });
    await tx.recordAuditEvent(auditEvent(context, { model, version: current.version, message: `deleted alias ${alias} (was version ${current.version})${reason ? `: ${reason}` : ''}` }));
    await changed(tx, model, alias, current.version, undefined);
    await tx.recordEvent(aliasEvent(current, current.version, caller, undefined, true));
    return current;
  });
  deps.events?.notify(model, deleted.version);
  forget(deps.cache, model, alias, deleted.version, undefined);
  return deleted;
}

/** The version an alias points at, from the cache when it knows; NOT_FOUND naming the alias when there is none. */
export async function resolveAlias(deps: Pick<AliasDeps, 'store' | 'cache'>, model: string, alias: string, where: string): Promise<number> {
  const cached = deps.cache.aliasVersion(model, alias);
  if (cached !== undefined) return cached;
  validateAlias(alias, where);
  const readAt = deps.cache.generation();
  const version = await deps.store.resolveAlias(model, alias);
  if (version === null) {
    if (!(await deps.store.modelExists(model))) throw notFound(`model ${model} does not exist`);
    throw notFound(`model ${model} has no alias ${alias}`, where);
  }
  deps.cache.putAlias(model, alias, version, readAt);
  return version;
}

/** The breaking changes from the alias's current version's contract to the target's (metadata is informational). */
async function breakingChanges(tx: StoreTransaction, current: AliasRecord, target: VersionRecord): Promise<ContractChange[]> {
  const from = await tx.getVersion(current.model, current.version, true);
  return diffContracts(from?.contract ?? null, target.contract).changes.filter((c) => c.severity === 'breaking');
}

/** Refuses, inside a delete's transaction (after the version is marked, so that a concurrent SetModelAlias has
 * committed or will find it deleted), to delete a version an alias points at. */
export async function refuseDeletingAliased(tx: StoreTransaction, model: string, version: number): Promise<void> {
  const aliases = await tx.aliasesOf(model, version);
  if (!aliases.length) return;
  const named = aliases.map((a) => `${model}@${a}`).join(', ');
  throw failedPrecondition(`version ${version} of ${model} is what ${named} point${aliases.length === 1 ? 's' : ''} at: move or delete ${aliases.length === 1 ? 'the alias' : 'those aliases'} first`);
}

/** A version's view lists its aliases: both versions of a move change. */
async function changed(tx: StoreTransaction, model: string, alias: string, from: number | undefined, to: number | undefined): Promise<void> {
  await tx.aliasChanged(model, alias);
  for (const v of new Set([from, to])) if (v) await tx.versionChanged(model, v);
}

function forget(cache: AliasCache, model: string, alias: string, from: number | undefined, to: number | undefined): void {
  cache.evictAlias(model, alias);
  for (const v of new Set([from, to])) if (v) cache.evict(model, v);
}

/** Moves an alias's image tag; a failure is recorded on the alias (pending, with the reason) for the sweep to retry. */
export async function moveTag(deps: AliasDeps, alias: AliasRecord): Promise<void> {
  if (!deps.moveTag) return;
  let error = '';
  // A version without an image (a builder with no sink) has no tag to move.
  if (!alias.versionImageDigest) return deps.store.setTagResult(alias.model, alias.alias, alias.version, '');
  try {
    await deps.moveTag({
      model: alias.model, version: alias.version, alias: alias.alias, imageReference: alias.versionImageReference, imageDigest: alias.versionImageDigest,
    });
  } catch (err) {
    error = (err instanceof Error ? err.message : String(err)).slice(0, 1024) || 'the tag could not be moved';
    deps.log.warn({ model: alias.model, alias: alias.alias, version: alias.version, err: error }, 'could not move the alias\'s image tag; retrying');
  }
  await deps.store.setTagResult(alias.model, alias.alias, alias.version, error);
}

/** How long a pending tag waits after an attempt before the next, and how many one sweep retries. */
const TAG_RETRY_AFTER_MS = 10_000;
const TAGS_PER_SWEEP = 50;

/** Retries the pending image tags no replica tried for a while; returns how many were tried. */
export async function retryPendingTags(deps: AliasDeps): Promise<number> {
  if (!deps.moveTag) return 0;
  const due = await deps.store.claimPendingTags(TAG_RETRY_AFTER_MS, TAGS_PER_SWEEP);
  for (const alias of due) await moveTag(deps, alias);
  return due.length;
}
