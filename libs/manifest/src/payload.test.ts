// payloadMatcher / unmatchedPayload: which archive paths Hydrosphere-style payload entries select.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { payloadMatcher, unmatchedPayload } from './payload';
import { parseManifest } from './parse';

const ARCHIVE = [
  'src/func_main.py',
  'src/util/io.py',
  'src/.env',
  'srcs/other.py',
  'model.pkl',
  'models/b.pkl',
  'requirements.txt',
  'nltk_data/corpora/stopwords.txt',
  'README.md',
  'serving.yaml',
];

const selected = (payload: string[] | null) => ARCHIVE.filter(payloadMatcher({ payload }));

test("Hydrosphere's documented payload selects its directory's whole tree, files by name, and nothing else", () => {
  const m = parseManifest('payload:\n  - "src/"\n  - "model.pkl"\n  - "requirements.txt"\n', 'serving.yaml');
  assert.deepEqual(ARCHIVE.filter(payloadMatcher(m)), [
    'src/func_main.py',
    'src/util/io.py',
    'src/.env',
    'model.pkl',
    'requirements.txt',
  ]);
});

test('a directory is selected with or without a trailing slash, and a file with one', () => {
  assert.deepEqual(selected(['nltk_data']), ['nltk_data/corpora/stopwords.txt']);
  assert.deepEqual(selected(['nltk_data/']), ['nltk_data/corpora/stopwords.txt']);
  assert.deepEqual(selected(['requirements.txt/']), ['requirements.txt']);
});

test("a directory entry does not select a sibling that only shares its prefix (src/ is not srcs/)", () => {
  assert.ok(!selected(['src']).includes('srcs/other.py'));
});

test('globs match within one directory level, ** across levels, dot files included', () => {
  assert.deepEqual(selected(['*.pkl']), ['model.pkl']);
  assert.deepEqual(selected(['**/*.pkl']), ['model.pkl', 'models/b.pkl']);
  assert.deepEqual(selected(['src/*.py']), ['src/func_main.py']);
  assert.deepEqual(selected(['src/.env']), ['src/.env']);
});

test("'./', '.' and './*' select everything, as in Hydrosphere's docs", () => {
  assert.deepEqual(selected(['./']), ARCHIVE);
  assert.deepEqual(selected(['.']), ARCHIVE);
  assert.deepEqual(selected(['./*']), ARCHIVE);
});

test('leading ./ in entries and archive paths is ignored', () => {
  assert.deepEqual(selected(['./requirements.txt']), ['requirements.txt']);
  assert.ok(payloadMatcher({ payload: ['src/'] })('./src/func_main.py'));
});

test('no payload selects every file; an empty payload none', () => {
  assert.deepEqual(selected(null), ARCHIVE);
  assert.deepEqual(selected([]), []);
});

test('unmatchedPayload names the entries that select no file', () => {
  assert.deepEqual(unmatchedPayload({ payload: ['src/', 'model.joblib', '*.onnx', 'requirements.txt'] }, ARCHIVE), [
    'model.joblib',
    '*.onnx',
  ]);
  assert.deepEqual(unmatchedPayload({ payload: null }, ARCHIVE), []);
});
