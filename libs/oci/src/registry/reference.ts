// Image references (`host[:port]/repo/path[:tag|@sha256:...]`) split into registry, repository and tag or digest.
import { invalidArgument } from '@kiln/errors';

export interface ImageReference {
  /** host[:port] */
  registry: string;
  repository: string;
  /** A tag or a digest (sha256:...). */
  reference: string;
}

const REPO_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function checkRepository(repository: string, location = 'repository'): string {
  if (!REPO_RE.test(repository) || repository.length > 255) throw invalidArgument(`bad repository name ${JSON.stringify(repository)}`, location);
  return repository;
}

export function checkTag(tag: string, location = 'tag'): string {
  if (!TAG_RE.test(tag) && !/^sha256:[a-f0-9]{64}$/.test(tag)) throw invalidArgument(`bad tag ${JSON.stringify(tag)}`, location);
  return tag;
}

/** Parses a reference that names its registry explicitly (Kiln never guesses Docker Hub). */
export function parseReference(ref: string): ImageReference {
  const slash = ref.indexOf('/');
  if (slash <= 0) throw invalidArgument(`reference must start with a registry host: ${ref}`, 'reference');
  const registry = ref.slice(0, slash);
  let rest = ref.slice(slash + 1);
  let reference = 'latest';
  const at = rest.indexOf('@');
  if (at >= 0) {
    reference = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const colon = rest.lastIndexOf(':');
    if (colon >= 0) rest = rest.slice(0, colon); // repo:tag@digest: the digest wins
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon >= 0) {
      reference = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  return { registry, repository: checkRepository(rest, ref), reference: checkTag(reference, ref) };
}

export const formatReference = (r: ImageReference): string =>
  `${r.registry}/${r.repository}${r.reference.startsWith('sha256:') ? '@' : ':'}${r.reference}`;
