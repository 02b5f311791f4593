// The dependency rules of ARCHITECTURE.md, checked on the source: which workspace package may import which, that no
// service imports another, and that the protocols and schemas with one owner are spoken only there.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Each workspace package and the Kiln packages it may import (ARCHITECTURE.md, "What may import what"). */
const ALLOWED: Record<string, string[]> = {
  'libs/std': [],
  'libs/errors': [],
  'libs/log': [],
  'libs/config': [],
  'libs/metadata': ['std'],
  'libs/archive': ['errors'],
  'libs/manifest': ['errors'],
  'libs/oci': ['errors', 'std'],
  'libs/blobstore': ['config', 'errors'],
  'libs/contract': ['errors', 'manifest', 'std'],
  'libs/api': ['errors', 'archive', 'contract'],
  'services/registry': ['api', 'archive', 'blobstore', 'config', 'contract', 'errors', 'log', 'manifest', 'metadata', 'std'],
  'services/builder': ['api', 'blobstore', 'config', 'errors', 'log', 'manifest', 'oci', 'std'],
  'services/inference': ['api', 'archive', 'blobstore', 'config', 'contract', 'errors', 'log', 'std'],
  cli: ['api', 'archive', 'config', 'contract', 'errors', 'manifest', 'std'],
};

/** Source files of a folder (tests included: they obey the same rules), generated code left out. */
function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'generated') walk(p);
      } else if (e.name.endsWith('.ts')) out.push(p);
    }
  };
  walk(path.join(root, dir));
  return out;
}

/** Every module an import, export-from or dynamic import names. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = new Set<string>();
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"]([^'"]+)['"]/g)) found.add(m[1]);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) found.add(m[1]);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.add(m[1]);
  return [...found];
}

const packages = Object.keys(ALLOWED);

test('every workspace package is in the table', () => {
  const workspaces = ['libs', 'services'].flatMap((d) =>
    readdirSync(path.join(root, d), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${d}/${e.name}`),
  );
  assert.deepEqual([...workspaces, 'cli'].sort(), [...packages].sort());
});

for (const pkg of packages) {
  test(`${pkg} imports only the Kiln packages it may, and only through their package names`, () => {
    const used = new Set<string>();
    for (const file of sources(pkg)) {
      for (const spec of importsOf(file)) {
        const where = path.relative(root, file);
        if (spec.startsWith('@kiln/')) {
          const name = spec.slice('@kiln/'.length).split('/')[0];
          assert.ok(ALLOWED[pkg].includes(name), `${where} imports ${spec}: ${pkg} may not depend on @kiln/${name}`);
          used.add(name);
        } else if (spec.startsWith('.')) {
          const target = path.resolve(path.dirname(file), spec);
          // A service's main.ts runs it alone through the process runner all services share (services/run.ts).
          if (/^services\/[a-z]+\/src\/main\.ts$/.test(where) && path.relative(root, target) === 'services/run') continue;
          assert.ok(!path.relative(path.join(root, pkg), target).startsWith('..'),
            `${where} imports ${spec}, outside its package: import another package by its name`);
        }
      }
    }
    // The package's manifest declares what it imports, so a package installed alone gets it.
    const manifest = JSON.parse(readFileSync(path.join(root, pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const declared = Object.keys(manifest.dependencies ?? {}).filter((d) => d.startsWith('@kiln/')).map((d) => d.slice(6));
    for (const name of used) assert.ok(declared.includes(name), `${pkg}/package.json does not list @kiln/${name}, which it imports`);
  });
}

/** Knowledge with one owner: a pattern that may appear only in these files (paths relative to the root). */
const OWNED: Array<{ what: string; pattern: RegExp; owners: RegExp }> = [
  { what: 'the Distribution API (/v2/ paths)', pattern: /['"`]\/v2\//, owners: /^libs\/oci\// },
  { what: "pg-boss's own tables", pattern: /\bkiln_queue\.|BUILD_QUEUE_SCHEMA/, owners: /^services\/registry\/src\/(store\/postgres\/build-jobs|builds)\.ts$/ },
  { what: 'gRPC transport (@grpc/grpc-js)', pattern: /from '@grpc\/grpc-js'/, owners: /^(libs\/api\/|services\/[a-z]+\/src\/.*\.test\.ts$)/ },
  { what: 'SQL drivers (pg, pg-boss)', pattern: /from 'pg(-boss)?'/, owners: /^(libs\/metadata\/|services\/registry\/src\/(store\/postgres\/|builds\.ts|version-cache\.ts))/ },
];

for (const { what, pattern, owners } of OWNED) {
  test(`${what}: spoken only by its owner`, () => {
    const offenders = [...packages.flatMap(sources), ...sources('test'), ...sources('bench')]
      .map((f) => path.relative(root, f))
      .filter((f) => !f.startsWith('test/') && !f.startsWith('bench/'))
      .filter((f) => !owners.test(f) && pattern.test(readFileSync(path.join(root, f), 'utf8')));
    assert.deepEqual(offenders, [], `${what} outside its owner`);
  });
}
