// Unit tests for the layer-digest cache file: survives a new instance, ignores junk, never leaves temp files.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FileLayerCache } from './layer-cache';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});
const tmp = async () => {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-layer-cache-'));
  dirs.push(d);
  return d;
};
const entry = (c: string) => ({ digest: `sha256:${c.repeat(64)}`, diffID: `sha256:${c.repeat(64)}`, size: 42 });

describe('FileLayerCache', () => {
  it('keeps entries across instances (a restarted builder), in a file under a folder it creates', async () => {
    const file = path.join(await tmp(), 'builder-cache', 'layers.json');
    const a = new FileLayerCache(file);
    assert.equal(await a.get('k1'), undefined);
    await Promise.all([a.set('k1', entry('a')), a.set('k2', entry('b'))]);
    const b = new FileLayerCache(file);
    assert.deepEqual(await b.get('k1'), entry('a'));
    assert.deepEqual(await b.get('k2'), entry('b'));
    assert.deepEqual((await fs.readdir(path.dirname(file))).filter((f) => f.endsWith('.tmp')), []);
  });

  it('starts empty on an unreadable file and drops malformed entries', async () => {
    const dir = await tmp();
    await fs.writeFile(path.join(dir, 'bad.json'), '{not json');
    assert.equal(await new FileLayerCache(path.join(dir, 'bad.json')).get('k'), undefined);
    await fs.writeFile(path.join(dir, 'mixed.json'), JSON.stringify({ good: entry('c'), bad: { digest: 'md5:x', size: 1 } }));
    const c = new FileLayerCache(path.join(dir, 'mixed.json'));
    assert.deepEqual(await c.get('good'), entry('c'));
    assert.equal(await c.get('bad'), undefined);
  });

  it('keeps the repository a layer was pushed to, and drops an entry with a malformed one', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'layers.json');
    const withOrigin = { ...entry('d'), origin: { registry: 'reg:5000', repository: 'kiln/iris' } };
    await new FileLayerCache(file).set('k', withOrigin);
    assert.deepEqual(await new FileLayerCache(file).get('k'), withOrigin);
    await fs.writeFile(file, JSON.stringify({ k: { ...entry('d'), origin: { registry: 5 } } }));
    assert.equal(await new FileLayerCache(file).get('k'), undefined);
  });
});
