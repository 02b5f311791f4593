import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { ensureTemplate, makeSpare, openEmbedded, type EmbeddedTemplate } from './embedded';

const log = pino({ level: 'silent' });
const exists = (p: string) => access(p).then(() => true, () => false);

async function rowsOf(dir: string, template?: EmbeddedTemplate): Promise<string[]> {
  const db = await openEmbedded(dir, log, template);
  try {
    const { rows } = await db.pool.query<{ note: string }>('SELECT note FROM notes ORDER BY note');
    return rows.map((r) => r.note);
  } finally {
    await db.close();
  }
}

describe('embedded database templates', () => {
  let root: string;
  let template: EmbeddedTemplate;
  let prepared = 0;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'kiln-embedded-'));
    template = {
      key: 'notes-v1',
      home: path.join(root, 'templates'),
      async prepare(db) {
        prepared++;
        await db.pool.query('CREATE TABLE notes (note text)');
        await db.pool.query("INSERT INTO notes VALUES ('from the template')");
      },
    };
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('makes the template once, with a spare, and starts each new database in its state', async () => {
    const folder = await ensureTemplate(template, log);
    assert.ok(folder);
    assert.equal(await ensureTemplate(template, log), folder, 'a second call finds the same template');
    assert.equal(prepared, 1);
    assert.ok(await exists(`${folder}.spare`), 'a spare copy waits beside the template');

    assert.deepEqual(await rowsOf(path.join(root, 'a'), template), ['from the template']);
    assert.equal(await exists(`${folder}.spare`), false, 'the first new database took the spare');
    // No spare now: the next one is copied from the template, and is the same.
    assert.deepEqual(await rowsOf(path.join(root, 'b'), template), ['from the template']);
    assert.equal(prepared, 1);
    const leftovers = (await readdir(path.join(root, 'templates'))).filter((f) => f.endsWith('.tmp'));
    assert.deepEqual(leftovers, []);
  });

  it('never replaces a database already there', async () => {
    const dir = path.join(root, 'kept');
    const db = await openEmbedded(dir, log, template);
    await db.pool.query("INSERT INTO notes VALUES ('written later')");
    await db.close();
    assert.deepEqual(await rowsOf(dir, template), ['from the template', 'written later']);
  });

  it('makes a database from scratch when no template can be made, leaving nothing behind', async () => {
    const failing: EmbeddedTemplate = {
      key: 'broken',
      home: path.join(root, 'templates-broken'),
      prepare: async () => {
        throw new Error('prepare failed');
      },
    };
    assert.equal(await ensureTemplate(failing, log), undefined);
    const db = await openEmbedded(path.join(root, 'scratch'), log, failing);
    try {
      const { rows } = await db.pool.query<{ t: string | null }>("SELECT to_regclass('notes')::text AS t");
      assert.equal(rows[0].t, null, 'an empty database: its owner brings the schema');
    } finally {
      await db.close();
    }
    assert.deepEqual(await readdir(path.join(root, 'templates-broken')), []);
  });

  it('removes the staging folder of a process that died copying a spare', async () => {
    const folder = (await ensureTemplate(template, log))!;
    await rm(`${folder}.spare`, { recursive: true, force: true });
    // pid 2^22 + 1 is above Linux's pid_max limit: no process has it.
    const abandoned = `${folder}.spare.4194305-0badcafe.tmp`;
    await mkdir(path.join(abandoned, 'base'), { recursive: true });
    await makeSpare(folder, log);
    assert.equal(await exists(abandoned), false);
    assert.ok(await exists(`${folder}.spare`));
  });
});
