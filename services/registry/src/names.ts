// Rules for names users choose: labels here, model names (they become image repository names) from @kiln/api.
import { invalidArgument } from '@kiln/errors';

const LABEL_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,126}[A-Za-z0-9])?$/;
const MAX_NAME_LENGTH = 128;
const MAX_LABEL_VALUE_LENGTH = 1024;

// Model names are the API's (the builder makes image repositories from them): their rules live in @kiln/api.
export { canonicalModelName, DEFAULT_NAMESPACE, namespaceOf, validateNamespace } from '@kiln/api/model-names';

export function validateLabels(labels: Record<string, string>, where: string): void {
  for (const [key, value] of Object.entries(labels)) {
    if (key.length > MAX_NAME_LENGTH) {
      throw invalidArgument(`a label key is ${key.length} characters long: at most ${MAX_NAME_LENGTH}`, where);
    }
    if (!LABEL_KEY.test(key)) throw invalidArgument(`label key ${JSON.stringify(key)} is not valid: letters, digits, '.', '_', '/', '-', at most 128`, `${where}.${key}`);
    if (typeof value !== 'string' || value.length > MAX_LABEL_VALUE_LENGTH) throw invalidArgument(`label values are strings of at most ${MAX_LABEL_VALUE_LENGTH} characters`, `${where}.${key}`);
  }
}
