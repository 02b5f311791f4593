// A version's lifecycle: its statuses, the changes between them that are allowed, and which are final. The one place
// that says so: the store guards every status change with it, and watches and the cache ask it what is final.

export type VersionStatus = 'BUILDING' | 'RELEASED' | 'FAILED' | 'DELETED';

interface StatusRules {
  /** The statuses a version in this one may move to. */
  next: readonly VersionStatus[];
  /** Its build is over: nothing about the version changes any more but a delete. */
  final: boolean;
  /** Got and listed (a deleted version is kept only for its history and its blobs' collection). */
  visible: boolean;
}

export const LIFECYCLE: Readonly<Record<VersionStatus, StatusRules>> = {
  BUILDING: { next: ['RELEASED', 'FAILED', 'DELETED'], final: false, visible: true },
  RELEASED: { next: ['DELETED'], final: true, visible: true },
  FAILED: { next: ['DELETED'], final: true, visible: true },
  DELETED: { next: [], final: true, visible: false },
};

/** Every status, in the order above. */
export const STATUSES = Object.keys(LIFECYCLE) as VersionStatus[];

/** What an upload creates: a version waiting for its image. */
export const INITIAL_STATUS: VersionStatus = 'BUILDING';

/** The statuses got and listed by default. */
export const VISIBLE_STATUSES = STATUSES.filter((s) => LIFECYCLE[s].visible);

export function isStatus(value: string): value is VersionStatus {
  return Object.hasOwn(LIFECYCLE, value);
}

export function canTransition(from: VersionStatus, to: VersionStatus): boolean {
  return LIFECYCLE[from].next.includes(to);
}

/** The statuses from which a version may move to `to`: the guard of the store's update that moves it. */
export function statusesBefore(to: VersionStatus): VersionStatus[] {
  return STATUSES.filter((from) => canTransition(from, to));
}

/** Whether the version's build is over (a watch ends there; only a delete changes it from then on). */
export function isFinal(status: VersionStatus): boolean {
  return LIFECYCLE[status].final;
}

export function isVisible(status: VersionStatus): boolean {
  return LIFECYCLE[status].visible;
}

/** Whether an alias may point at a version in this status: only a released one (a building or failed version has no
 * image to deploy, a deleted one no files). */
export function canBeAliased(status: VersionStatus): boolean {
  return status === 'RELEASED';
}

/** Whether a version in this status waits for a build (the build queue builds only these). */
export function awaitsBuild(status: VersionStatus): boolean {
  return canTransition(status, 'RELEASED');
}
