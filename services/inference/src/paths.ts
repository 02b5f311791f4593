// Which local paths InferContract may read: only under the folders the operator configured
// (KILN_INFERENCE_PATH_ROOTS), so that a client cannot make the service read any file the server can.
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { KilnError, notFound } from '@kiln/errors';

const inside = (p: string, root: string) => {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/**
 * The real path of `requested` if it lies under one of `roots` (after resolving symlinks, so a link cannot lead out),
 * else an error: FAILED_PRECONDITION when no roots are configured, INVALID_ARGUMENT outside them, NOT_FOUND for a
 * missing path under a root. Whether a path outside the roots exists is never told.
 */
export async function allowedModelPath(requested: string, roots: readonly string[], location: string): Promise<string> {
  if (!roots.length) {
    throw new KilnError(
      'FAILED_PRECONDITION',
      'this inference service reads no local paths (KILN_INFERENCE_PATH_ROOTS is empty): send the files or a stored version',
      location,
    );
  }
  const refuse = () =>
    new KilnError('INVALID_ARGUMENT', `${requested} is outside the folders this service may read (${roots.join(', ')})`, location);
  if (!requested || !path.isAbsolute(requested)) {
    throw new KilnError('INVALID_ARGUMENT', 'must be an absolute path', location);
  }
  const lexical = path.resolve(requested);
  if (!roots.some((r) => inside(lexical, path.resolve(r)))) throw refuse();
  const real = await realpath(lexical).catch(() => {
    throw notFound(`no file or directory ${lexical} on the inference service`, location);
  });
  const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => undefined)));
  if (!realRoots.some((r) => r !== undefined && inside(real, r))) throw refuse();
  return real;
}
