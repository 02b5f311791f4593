// Fuzzing parseManifest: truncated, byte-mutated and structurally damaged manifests each end in a valid Manifest or
// a ManifestError (INVALID_ARGUMENT) that names where, never another exception or a hang. The cases are enumerated,
// not random, so a failure names its input exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { ManifestError, parseManifest } from './index';

const dir = fileURLToPath(new URL('../testdata/', import.meta.url));
const manifests = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => ({ name: f, text: readFileSync(`${dir}${f}`, 'utf8') }));

/** Parses `text`; a rejection must be a ManifestError with issues that each say something. */
function outcome(text: string, what: string): 'ok' | 'rejected' {
  const started = Date.now();
  try {
    parseManifest(text, 'kiln.yaml');
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof ManifestError, `${what}: not a ManifestError: ${(err as Error)?.stack ?? err}`);
    assert.equal(err.code, 'INVALID_ARGUMENT', what);
    assert.ok(err.issues.length > 0 && err.issues.every((i) => i.message.length > 0), what);
    return 'rejected';
  } finally {
    assert.ok(Date.now() - started < 1000, `${what}: took ${Date.now() - started} ms`);
  }
}

function tally(results: Array<'ok' | 'rejected'>) {
  return { ok: results.filter((r) => r === 'ok').length, rejected: results.filter((r) => r === 'rejected').length };
}

test('fuzz: every truncation of every test manifest is a Manifest or a ManifestError', () => {
  const results: Array<'ok' | 'rejected'> = [];
  for (const { name, text } of manifests) {
    for (let n = 0; n < text.length; n++) results.push(outcome(text.slice(0, n), `${name} truncated to ${n}`));
  }
  const { ok, rejected } = tally(results);
  assert.ok(ok > 0 && rejected > 0, JSON.stringify({ ok, rejected }));
});

/** Characters that mean something to YAML (indicators, quotes, anchors, tags, flow collections, tabs) or nothing
 * printable (NUL, a lone surrogate, a BOM). */
const SPECIAL = [':', '-', '?', '[', ']', '{', '}', ',', '"', "'", '&', '*', '!', '|', '>', '#', '%', '@', '`', '\t', '\n', ' ', '\0', '\uD800', '\uFEFF'];

test('fuzz: each character of each test manifest replaced by each YAML indicator is a Manifest or a ManifestError', () => {
  const results: Array<'ok' | 'rejected'> = [];
  for (const { name, text } of manifests) {
    // Every seventh position keeps the run short (~9k cases) while still hitting keys, values, indents and newlines.
    for (let at = 0; at < text.length; at += 7) {
      for (const c of SPECIAL) {
        results.push(outcome(text.slice(0, at) + c + text.slice(at + 1), `${name} with ${JSON.stringify(c)} at ${at}`));
      }
    }
  }
  const { ok, rejected } = tally(results);
  assert.ok(ok > 0 && rejected > 0, JSON.stringify({ ok, rejected }));
});

/** Values of the wrong kind, each put in place of every value of the parsed manifest in turn. */
const ODD_VALUES: unknown[] = [null, 0, -1, 2.5, 1e308, '', 'x', true, [], {}, [null], { a: null }, ['a', 1], { inputs: 1 }, 'a'.repeat(300)];

/** Every path to a value (mappings and lists, outermost first). */
function paths(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]));
  return out;
}

function replaced(value: unknown, path: Array<string | number>, by: unknown): unknown {
  if (!path.length) return by;
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? replaced(v, rest, by) : v));
  return { ...(value as object), [head]: replaced((value as Record<string, unknown>)[head], rest, by) };
}

test('fuzz: each value of each test manifest replaced by a value of another kind is a Manifest or a ManifestError', () => {
  const results: Array<'ok' | 'rejected'> = [];
  for (const { name, text } of manifests) {
    // A file may hold several YAML documents (Hydrosphere's `---`): each is damaged in turn, the others kept.
    const docs = parseAllDocuments(text) as Array<{ toJS(): unknown }>;
    const values = docs.map((d) => d.toJS());
    values.forEach((data, d) => {
      for (const p of paths(data)) {
        for (const odd of ODD_VALUES) {
          const yaml = values.map((v, i) => stringify(i === d ? replaced(data, p, odd) : v)).join('---\n');
          results.push(outcome(yaml, `${name} doc ${d} with ${p.join('.') || '(root)'} = ${JSON.stringify(odd)?.slice(0, 20)}`));
        }
      }
    });
  }
  const { ok, rejected } = tally(results);
  assert.ok(ok > 0 && rejected > 0, JSON.stringify({ ok, rejected }));
});

test('fuzz: alias bombs, deep nesting and oversized text are ManifestErrors, quickly', () => {
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefghij'.split('').map((c, i) => `${c}: &${c} [${`*${String.fromCharCode(97 + i)}, `.repeat(10)}]`)].join('\n');
  assert.equal(outcome(bomb, 'alias bomb'), 'rejected');
  assert.equal(outcome(`contract: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, 'deep nesting'), 'rejected');
  assert.equal(outcome(`name: m\nmetadata:\n${'  k: v\n'.repeat(50_000)}`, 'oversized'), 'rejected');
});
