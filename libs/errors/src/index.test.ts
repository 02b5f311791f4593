// capText: what messages may repeat of what callers sent, in bytes of UTF-8, keeping its start and its end.
import assert from 'node:assert/strict';
import test from 'node:test';
import { capText } from './index';

test('text within the limit is kept as it is', () => {
  assert.equal(capText('model name "x" is not valid', 1024), 'model name "x" is not valid');
  assert.equal(capText('', 0), '');
});

test('longer text keeps its start and its end, says how much was left out, and fits the limit', () => {
  const text = `model name "${'a'.repeat(128 * 1024)}" is not valid: use 1-128 lowercase letters`;
  const capped = capText(text, 1024);
  assert.ok(Buffer.byteLength(capped) <= 1024, `${Buffer.byteLength(capped)} bytes`);
  assert.ok(capped.startsWith('model name "aaa'));
  assert.ok(capped.endsWith('aaa" is not valid: use 1-128 lowercase letters'));
  const [, left] = /…\[(\d+) bytes left out\]…/.exec(capped)!;
  assert.equal(Number(left) + Buffer.byteLength(capped.replace(/…\[\d+ bytes left out\]…/, '')), Buffer.byteLength(text));
});

test('multi-byte characters are cut whole: no broken surrogate pairs or partial UTF-8', () => {
  for (const ch of ['é', '名', '😀']) {
    const capped = capText(ch.repeat(5000), 1000);
    assert.ok(Buffer.byteLength(capped) <= 1000);
    assert.equal(Buffer.from(capped).toString(), capped, 'valid UTF-8 round trip');
    assert.doesNotMatch(capped, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/, 'no lone surrogate');
    assert.ok(capped.startsWith(ch) && capped.endsWith(ch));
  }
});
