// The files of Kiln's own image: one esbuild bundle of the services, the CLI and the health check (deploy/image/
// entrypoint.ts), the files they read at run time (protos, migrations), and the few npm packages a bundle cannot
// hold, each with the packages it needs. Paths are the image's: everything lives under /opt/kiln.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { compareBytes, EXEC_MODE, FILE_MODE, type TarFile } from '@kiln/oci';

/** Where Kiln lives in the image. Source files keep their repository paths below it (proto/, migrations). */
export const APP_ROOT = 'opt/kiln';

/**
 * Packages left out of the bundle and installed in /opt/kiln/node_modules with their dependencies: PGlite (its wasm
 * and data files are found beside its modules, in a worker too); optional native modules that are not installed
 * here either (pg-native, ssh2's cpu-features), which their users load inside a try.
 */
export const EXTERNAL_PACKAGES = ['@electric-sql/pglite', '@electric-sql/pglite-socket'];
const OPTIONAL_NATIVE = ['pg-native', 'cpu-features'];

/** Files and folders of a copied package that no running process reads. */
const NOT_RUNTIME = /(\.map|\.d\.[cm]?ts|\.md|\.markdown|\.ts|LICENSE\.txt~)$|(^|\/)(test|tests|__tests__|docs?|examples?|\.github)\//i;

export interface ImageFile {
  /** Path in the image, relative to / */
  name: string;
  /** The file on this machine. */
  source: string;
  mode: number;
}

export interface AppFiles {
  /** The bundle, protos, migrations and the bin scripts: what changes with Kiln's code. */
  app: TarFile[];
  /** The npm packages copied whole: what changes with package-lock.json. */
  packages: TarFile[];
}

const rel = (root: string, file: string) => path.relative(root, file).split(path.sep).join('/');

/**
 * Every source file's import.meta.url, __dirname and __filename become the path it has in the image, so that
 * paths computed from them (PROTO_ROOT, MIGRATIONS_DIR, a package's own proto or wasm files) hold there; packages
 * whose files do that are installed whole beside the bundle (`packagesWithAssets`).
 */
function imagePaths(root: string, packagesWithAssets: Set<string>): esbuild.Plugin {
  return {
    name: 'image-paths',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
        const text = await fs.readFile(args.path, 'utf8');
        if (!/import\.meta\.url|__dirname|__filename/.test(text)) return undefined;
        const inImage = `/${APP_ROOT}/${rel(root, args.path)}`;
        let out = text.replaceAll('import.meta.url', JSON.stringify(`file://${inImage}`));
        // A module that declares its own __dirname (an ES module computing it) keeps it.
        if (!/(var|let|const)\s+__dirname\b/.test(out)) out = out.replace(/\b__dirname\b/g, JSON.stringify(path.posix.dirname(inImage)));
        if (!/(var|let|const)\s+__filename\b/.test(out)) out = out.replace(/\b__filename\b/g, JSON.stringify(inImage));
        if (out === text) return undefined;
        const pkg = packageRootOf(root, args.path);
        if (pkg) packagesWithAssets.add(pkg);
        const ext = path.extname(args.path);
        return { contents: out, loader: ext === '.ts' || ext === '.mts' || ext === '.cts' ? 'ts' : 'js' };
      });
    },
  };
}

/** node_modules/@scope/name or node_modules/name (the outermost) of a file inside node_modules. */
function packageRootOf(root: string, file: string): string | undefined {
  const parts = rel(root, file).split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined;
  const n = parts[at + 1]?.startsWith('@') ? 2 : 1;
  return parts.slice(0, at + 1 + n).join('/');
}

/** The bundle in `outDir`: deterministic (no absolute paths, no times), its files named by content. */
export async function bundle(root: string, outDir: string): Promise<{ packagesWithAssets: Set<string> }> {
  const packagesWithAssets = new Set<string>();
  await fs.rm(outDir, { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { entrypoint: 'deploy/image/entrypoint.ts' },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    external: [...EXTERNAL_PACKAGES, ...OPTIONAL_NATIVE, '*.node'],
    // CommonJS packages inside an ES module bundle call require() for node's modules.
    banner: { js: "import { createRequire as __kilnCreateRequire } from 'node:module'; const require = __kilnCreateRequire(import.meta.url);" },
    plugins: [imagePaths(root, packagesWithAssets)],
  });
  return { packagesWithAssets };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort(compareBytes);
}

/** A file of this machine as a tar entry: 0755 when its owner may run it, else 0644 (umask and owner left out). */
export async function hostFile(name: string, source: string, mode?: number): Promise<TarFile> {
  const st = await fs.stat(source);
  const sha256 = await new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(source).on('data', (c) => hash.update(c)).on('end', () => resolve(hash.digest('hex'))).on('error', reject);
  });
  return { name, size: st.size, mode: mode ?? (st.mode & 0o100 ? EXEC_MODE : FILE_MODE), sha256, open: () => createReadStream(source) };
}

/** The package at `dir` and, transitively, the packages its dependencies resolve to (as node would find them). */
async function packageClosure(root: string, dir: string, seen: Set<string>): Promise<void> {
  const real = await fs.realpath(dir);
  if (seen.has(real)) return;
  seen.add(real);
  const pkg = JSON.parse(await fs.readFile(path.join(real, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
  const require = createRequire(path.join(real, 'package.json'));
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
    let found: string | undefined;
    for (const base of require.resolve.paths(dep) ?? []) {
      const candidate = path.join(base, dep);
      if (await fs.stat(path.join(candidate, 'package.json')).then(() => true, () => false)) {
        found = candidate;
        break;
      }
    }
    if (found) await packageClosure(root, found, seen);
    else if (!pkg.optionalDependencies?.[dep]) throw new Error(`${rel(root, real)} needs ${dep}, which is not installed`);
  }
}

/** Everything the app layer and the packages layer hold. */
export async function appFiles(root: string, bundleDir: string): Promise<AppFiles> {
  const { packagesWithAssets } = await bundle(root, bundleDir);
  const app: TarFile[] = [];
  for (const f of await walk(bundleDir)) app.push(await hostFile(`${APP_ROOT}/app/${rel(bundleDir, f)}`, f, FILE_MODE));
  // What the services read at run time, at the paths import.meta.url gives them (see imagePaths).
  for (const dir of ['proto', 'services/registry/migrations']) {
    for (const f of await walk(path.join(root, dir))) {
      if (dir === 'proto' && !f.endsWith('.proto')) continue;
      app.push(await hostFile(`${APP_ROOT}/${rel(root, f)}`, f, FILE_MODE));
    }
  }

  // Packages the bundle leaves out, with their dependencies, and packages whose own files it reads at run time.
  const seen = new Set<string>();
  for (const name of EXTERNAL_PACKAGES) await packageClosure(root, path.join(root, 'node_modules', name), seen);
  for (const pkg of packagesWithAssets) seen.add(await fs.realpath(path.join(root, pkg)));
  const packages: TarFile[] = [];
  const names = new Set<string>();
  for (const real of [...seen].sort(compareBytes)) {
    const inRepo = rel(root, real);
    // A workspace package's nested node_modules keep their place; everything else goes to the top node_modules.
    const at = inRepo.lastIndexOf('node_modules/');
    if (at < 0) throw new Error(`${inRepo} is not an installed package`);
    for (const f of await walk(real)) {
      const inPackage = rel(real, f);
      if (NOT_RUNTIME.test(inPackage)) continue;
      const name = `${APP_ROOT}/${inRepo}/${inPackage}`;
      if (names.has(name)) continue;
      names.add(name);
      packages.push(await hostFile(name, f));
    }
  }
  return { app, packages };
}
