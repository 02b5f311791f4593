// Kiln's image's entrypoint: `kiln-server [registry|builder|inference|all]` (default: $KILN_SERVICE, else all) runs
// services; `kiln ...` runs the CLI; `health` is the image's health check. Each part is a chunk of the bundle,
// loaded only when asked for, so a health check or a CLI call does not load the services.
const SERVICES = {
  all: () => import('../../services/all'),
  registry: () => import('../../services/registry/src/main'),
  builder: () => import('../../services/builder/src/main'),
  inference: () => import('../../services/inference/src/main'),
} as const;

export type ServiceMode = keyof typeof SERVICES;
export const SERVICE_MODES = Object.keys(SERVICES) as ServiceMode[];

const [first, ...rest] = process.argv.slice(2);
if (first === 'kiln') {
  // The CLI parses process.argv as if it had been run as `kiln ...`.
  process.argv.splice(1, process.argv.length - 1, 'kiln', ...rest);
  await import('../../cli/src/main');
} else if (first === 'health') {
  const { runHealthCheck } = await import('./health');
  process.exitCode = await runHealthCheck(rest[0]);
} else {
  const mode = first ?? process.env.KILN_SERVICE ?? 'all';
  if (!(mode in SERVICES)) {
    process.stderr.write(
      `kiln-server: unknown service ${JSON.stringify(mode)} (from ${first ? 'the argument' : 'KILN_SERVICE'})\n` +
        'usage: kiln-server [registry|builder|inference|all]   (default: $KILN_SERVICE, else all)\n' +
        '       kiln-server kiln ARGS...                          (the kiln CLI)\n' +
        '       kiln-server health [SERVICE]                      (the image health check)\n',
    );
    process.exit(2);
  }
  await SERVICES[mode as ServiceMode]();
}
