#!/usr/bin/env node
// Runs a Kiln service entry point (services/all.ts, services/registry/src/main.ts, ...) under plain node:
//   node scripts/service.mjs services/all.ts
// It bundles the entry and Kiln's own workspace packages with esbuild (an ES module, and a chunk per dynamic
// import), npm packages left to node_modules, then imports it. Running TypeScript through tsx instead registers ESM loader hooks, which Node 20
// runs on a thread with a V8 isolate of its own: ~35 MiB of resident memory per service for the whole life of the
// process. The bundle takes esbuild a fraction of a second and is deleted when the process exits.
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = process.argv[2];
if (!entry) {
  process.stderr.write('usage: node scripts/service.mjs <entry.ts> [args...]\n');
  process.exit(2);
}

/**
 * npm packages stay imports, resolved here as node would (esbuild's resolver, node's import conditions) and written
 * as absolute paths, so the bundle runs from any folder; @kiln/* and relative files are bundled.
 */
const npmPackagesExternal = {
  name: 'npm-packages-external',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('@kiln/') || args.pluginData === 'resolving') return undefined;
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'resolving' });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      // Node's own modules without the node: prefix resolve to themselves.
      return { path: path.isAbsolute(resolved.path) ? pathToFileURL(resolved.path).href : args.path, external: true };
    });
  },
};

/** Each module's import.meta.url stays its source file's, so paths computed from it (proto/, migrations/) hold. */
const sourceImportMetaUrl = {
  name: 'source-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

// One file per process, so that services starting together never write the same file. In the repository by default;
// KILN_BUILD_DIR elsewhere, and a read-only installation (a container's read-only root) falls back to the temp folder.
const outDir = bundleFolder();
function bundleFolder() {
  const chosen = process.env.KILN_BUILD_DIR ? path.resolve(process.env.KILN_BUILD_DIR) : path.join(root, '.kiln', 'build');
  try {
    mkdirSync(chosen, { recursive: true });
    accessSync(chosen, constants.W_OK);
    return chosen;
  } catch (err) {
    if (process.env.KILN_BUILD_DIR || !['EROFS', 'EACCES', 'EPERM'].includes(err.code)) throw err;
    const temp = path.join(os.tmpdir(), 'kiln-build');
    mkdirSync(temp, { recursive: true });
    return temp;
  }
}
// Bundles of processes that died without removing theirs (a bundle is removed when its process exits).
for (const name of readdirSync(outDir)) {
  const pid = Number(/-(\d+)-[0-9a-f]{6}(\.mjs)?$/.exec(name)?.[1]);
  if (!pid || pid === process.pid) continue;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code === 'ESRCH') rmSync(path.join(outDir, name), { recursive: true, force: true });
  }
}
// A folder per process: the entry, and a chunk for each module imported dynamically, so that what a service loads
// only when its configuration asks for it (the AWS SDK, dockerode) stays out of its start.
const bundleDir = path.join(outDir, `${path.basename(entry).replace(/\.ts$/, '')}-${process.pid}-${randomBytes(3).toString('hex')}`);
const removeBundle = () => rmSync(bundleDir, { recursive: true, force: true });
// Chunks load while the service runs, so the folder stays until the process exits (process.exit included).
process.once('exit', removeBundle);
let built;
try {
  built = await esbuild.build({
    entryPoints: { main: path.resolve(entry) },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: bundleDir,
    outExtension: { '.js': '.mjs' },
    keepNames: true,
    logLevel: 'warning',
    metafile: true,
    plugins: [npmPackagesExternal, sourceImportMetaUrl],
  });
} catch (err) {
  removeBundle();
  throw err;
} finally {
  await esbuild.stop();
}
const mainFile = Object.entries(built.metafile.outputs).find(([, o]) => o.entryPoint)?.[0];
// The service sees the arguments after its entry, as if it had been run directly.
process.argv.splice(1, 2, path.resolve(entry));
await import(pathToFileURL(path.resolve(mainFile)).href);
