// The README's first command works: `npm run quickstart` on embedded defaults releases the example and exits 0.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

const root = path.resolve(import.meta.dirname, '..');

describe('npm run quickstart', () => {
  it('starts Kiln on embedded parts, uploads the example, prints the released version and exits 0', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kiln-quickstart-'));
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile('npm', ['run', '--silent', 'quickstart'], {
        cwd: root,
        env: { ...process.env, KILN_DATA_DIR: dataDir, DATABASE_URL: '', KILN_S3_BUCKET: '', KILN_IMAGE_REGISTRY: '' },
        timeout: 180_000,
      }, (err, out, errOut) => resolve({ code: err ? Number(err.code) || 1 : 0, stdout: out, stderr: errOut })),
    );
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^iris:1\s+RELEASED/m);
    assert.match(stdout, /measurements: float\[batch, 4\]/);
    assert.match(stdout, /image:\s+oci:.*kiln\/default\/iris:1@sha256:[0-9a-f]{64}/);
    // The image really is in the OCI layout the output names.
    const index = JSON.parse(await readFile(path.join(dataDir, 'images/index.json'), 'utf8'));
    assert.ok(index.manifests.some((m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name']?.endsWith('iris:1')));
  });
});
