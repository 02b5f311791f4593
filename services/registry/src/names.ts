// Rules for names users choose: model names (they become image repository names) and labels.
import { invalidArgument } from '@kiln/errors';

const MODEL_NAME = /^[a-z0-9](?:[a-z0-9._-]{0,126}[a-z0-9])?$/;
const LABEL_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,126}[A-Za-z0-9])?$/;
const MAX_NAME_LENGTH = 128;
const MAX_LABEL_VALUE_LENGTH = 1024;

/** The namespace of a name without one (`fraud` is `default/fraud`'s short form). */
export const DEFAULT_NAMESPACE = 'default';

/** A model name's namespace: what comes before its one slash (`team/name`), else the default namespace. */
export function namespaceOf(model: string): string {
  const slash = model.indexOf('/');
  return slash < 0 ? DEFAULT_NAMESPACE : model.slice(0, slash);
}

export function validateModelName(name: string, where: string): void {
  if (!name) throw invalidArgument('the model name is empty', where);
  // Its length first: a name too long to be valid is not repeated in the message.
  if (name.length > MAX_NAME_LENGTH) {
    throw invalidArgument(`the model name is ${name.length} characters long: at most ${MAX_NAME_LENGTH}`, where);
  }
  if (!MODEL_NAME.test(name)) {
    throw invalidArgument(
      `model name ${JSON.stringify(name)} is not valid: use 1-128 lowercase letters, digits, '.', '_' or '-', starting and ending with a letter or digit`,
      where,
    );
  }
}

export function validateLabels(labels: Record<string, string>, where: string): void {
  for (const [key, value] of Object.entries(labels)) {
    if (key.length > MAX_NAME_LENGTH) {
      throw invalidArgument(`a label key is ${key.length} characters long: at most ${MAX_NAME_LENGTH}`, where);
    }
    if (!LABEL_KEY.test(key)) throw invalidArgument(`label key ${JSON.stringify(key)} is not valid: letters, digits, '.', '_', '/', '-', at most 128`, `${where}.${key}`);
    if (typeof value !== 'string' || value.length > MAX_LABEL_VALUE_LENGTH) throw invalidArgument(`label values are strings of at most ${MAX_LABEL_VALUE_LENGTH} characters`, `${where}.${key}`);
  }
}
