// Model names (kiln.v1.Model.name): `name` or `namespace/name`, the rules each side follows, and the one canonical
// form every answer uses. Here, not in the registry, because the builder makes image repositories from them too.
import { invalidArgument } from '@kiln/errors';

/** One side of a name: it becomes one path component of an image repository. */
const NAME_PART = /^[a-z0-9](?:[a-z0-9._-]{0,126}[a-z0-9])?$/;
const MAX_PART_LENGTH = 128;

/** The namespace of a name without one (`fraud` is `default/fraud`'s short form). */
export const DEFAULT_NAMESPACE = 'default';

/** Kept for Kiln's own image repositories (the builder's layer index is `<prefix>/kiln/layers`). */
export const RESERVED_NAMESPACE = 'kiln';

/** A model name's namespace: what comes before its one slash (`team/name`), else the default namespace. */
export function namespaceOf(model: string): string {
  const slash = model.indexOf('/');
  return slash < 0 ? DEFAULT_NAMESPACE : model.slice(0, slash);
}

/** A name's two sides: `fraud` and `default/fraud` are both { namespace: 'default', name: 'fraud' }. */
export function splitModelName(model: string): { namespace: string; name: string } {
  const slash = model.indexOf('/');
  return slash < 0 ? { namespace: DEFAULT_NAMESPACE, name: model } : { namespace: model.slice(0, slash), name: model.slice(slash + 1) };
}

const PART_RULES = "1-128 lowercase letters, digits, '.', '_' or '-', starting and ending with a letter or digit";

/**
 * Checks a model name and returns its canonical form: the default namespace's models without `default/` (so
 * `default/fraud` is `fraud`, the name every model had before namespaces), every other one as `namespace/name`.
 * Lengths are checked first: a side too long to be valid is not repeated in the message.
 */
export function canonicalModelName(model: string, where: string): string {
  if (!model) throw invalidArgument('the model name is empty', where);
  if (!model.includes('/')) {
    checkLength(model, 'the model name', where);
    if (!NAME_PART.test(model)) throw invalidArgument(`model name ${JSON.stringify(model)} is not valid: use ${PART_RULES} (or namespace/name)`, where);
    return model;
  }
  const { namespace, name } = splitModelName(model);
  checkLength(namespace, "the model name's namespace", where);
  checkLength(name, 'the model name after its namespace', where);
  if (!NAME_PART.test(namespace) || !NAME_PART.test(name)) {
    throw invalidArgument(`model name ${JSON.stringify(model)} is not valid: use namespace/name with one slash, each side ${PART_RULES}`, where);
  }
  if (namespace === RESERVED_NAMESPACE) throw invalidArgument(`the namespace ${RESERVED_NAMESPACE} is kept for Kiln's own images`, where);
  return namespace === DEFAULT_NAMESPACE ? name : model;
}

/** Checks a namespace on its own (a ListModels filter): the rules of a name's either side. */
export function validateNamespace(namespace: string, where: string): void {
  checkLength(namespace, 'the namespace', where);
  if (!NAME_PART.test(namespace)) throw invalidArgument(`namespace ${JSON.stringify(namespace)} is not valid: use ${PART_RULES}`, where);
}

function checkLength(part: string, what: string, where: string): void {
  if (part.length > MAX_PART_LENGTH) throw invalidArgument(`${what} is ${part.length} characters long: at most ${MAX_PART_LENGTH}`, where);
}
