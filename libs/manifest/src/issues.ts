// Problems found in a manifest: each names a field path (`contract.inputs.x.shape`), and all of them travel together
// in one KilnError so that a user fixes a manifest in one round trip, not one error at a time.
import { KilnError } from '@kiln/errors';

export type PathSegment = string | number;

export interface ManifestIssue {
  /** The field path in the manifest: `contract.inputs.x.shape`, `payload[2]`; '' for the whole document. */
  location: string;
  message: string;
  /** 1-based line in the manifest text, when known. */
  line?: number;
}

/** A manifest that cannot be used: INVALID_ARGUMENT, located at the first problem, listing every problem. */
export class ManifestError extends KilnError {
  readonly issues: readonly ManifestIssue[];
  readonly sourceName: string;

  constructor(issues: readonly ManifestIssue[], sourceName: string) {
    const [first, ...rest] = issues;
    const at = (i: ManifestIssue) => (i.line ? ` (${sourceName}:${i.line})` : '');
    const more = rest.map((i) => `; ${i.location ? `${i.location}: ` : ''}${i.message}${at(i)}`).join('');
    const message = `${first.message}${at(first)}${more}`;
    // A problem with the whole document (YAML syntax) is located at the file itself.
    super('INVALID_ARGUMENT', message, first.location || sourceName);
    this.name = 'ManifestError';
    this.issues = issues;
    this.sourceName = sourceName;
  }
}

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `['contract', 'inputs', 'x', 'shape', 1]` -> `contract.inputs.x.shape[1]`; odd keys are quoted: `metadata["a b"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** The known key closest to a misspelled one, if it is close enough to be a likely typo. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // Two edits catch swaps and dropped letters (`shpae`, `ouputs`) without suggesting unrelated words.
  return bestDistance <= Math.min(2, Math.floor(word.length / 2)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  // Optimal string alignment: Levenshtein plus adjacent transpositions, which are the commonest typo.
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** How a value reads in a message: `"Mdl"`, `a number (3)`, `a list`. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value === 'number' ? 'a number' : 'a boolean'} (${value})`;
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}
