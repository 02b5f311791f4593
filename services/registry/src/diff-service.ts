// The kiln.v1.Registry DiffContracts RPC: two contracts (of stored versions, by number or alias, or one given in the
// request) through @kiln/contract's diff, whose rule table classifies each change. Who may call it: reader of the
// `against` version's namespace (policy.ts), and of the candidate's when it is another model's.
import type { RegistryImplementation } from '@kiln/api/handlers';
import type { ChangeSeverity } from '@kiln/api/generated/kiln/v1/ChangeSeverity';
import type { ContractChange } from '@kiln/api/generated/kiln/v1/ContractChange';
import type { VersionSelector__Output } from '@kiln/api/generated/kiln/v1/VersionSelector';
import { contractFromMessage } from '@kiln/api/contract';
import type { HandlerContext } from '@kiln/api/context';
import { diffContracts, type ContractChange as Change } from '@kiln/contract/diff';
import { invalidArgument } from '@kiln/errors';
import type { AliasDeps } from './aliases';
import { requireVersion, versionNamed } from './version-lookup';
import { canonicalModelName, namespaceOf } from './names';
import type { VersionRecord } from './store';

export function changeToProto(c: Change): ContractChange {
  return {
    severity: `CHANGE_SEVERITY_${c.severity.toUpperCase()}` as ChangeSeverity,
    kind: c.kind,
    path: c.path,
    message: c.message,
    before: c.before ?? '',
    after: c.after ?? '',
  };
}

export function diffHandlers(deps: Pick<AliasDeps, 'store' | 'cache'>): Pick<RegistryImplementation, 'DiffContracts'> {
  async function selected(s: VersionSelector__Output | null | undefined, where: string, context: HandlerContext, check: boolean): Promise<VersionRecord> {
    if (!s) throw invalidArgument('say which version', where);
    const model = canonicalModelName(s.model, `${where}.model`);
    if (check) context.requireRole('reader', namespaceOf(model), `reading ${model}'s contract`);
    return requireVersion(deps.store, model, await versionNamed(deps, model, s, where), where);
  }

  return {
    async DiffContracts(request, context) {
      const where = 'DiffContractsRequest';
      const against = await selected(request.against, `${where}.against`, context, false);
      let candidate: VersionRecord | undefined;
      if (request.candidate === 'version') {
        // Another model's version needs reading rights there too (the policy table checked `against`'s namespace).
        const other = namespaceOf(canonicalModelName(request.version?.model ?? '', `${where}.version.model`)) !== namespaceOf(against.model);
        candidate = await selected(request.version, `${where}.version`, context, other);
      } else if (request.candidate !== 'contract') {
        throw invalidArgument('give the candidate: a version or a contract', `${where}.candidate`);
      }
      const diff = candidate
        ? diffContracts(against.contract, candidate.contract, { beforeMetadata: against.metadata, afterMetadata: candidate.metadata })
        : diffContracts(against.contract, contractFromMessage(request.contract, `${where}.contract`));
      return {
        changes: diff.changes.map(changeToProto),
        breaking: diff.breaking,
        againstVersion: against.version,
        candidateVersion: candidate?.version ?? 0,
      };
    },
  };
}
