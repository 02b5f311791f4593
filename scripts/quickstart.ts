// `npm run quickstart`: Kiln's main job end to end on embedded defaults. Starts the three services (PGlite, a local
// blob folder, a local OCI image layout; nothing to install), uploads the bundled example model, follows its build,
// prints the new version with its files, contract and image, and exits 0 once the version is released.
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { registryClient } from '@kiln/api';
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import type { WatchModelVersionResponse__Output } from '@kiln/api/generated/kiln/v1/WatchModelVersionResponse';
import { loadConfig } from '@kiln/config';
import { createLogger } from '@kiln/log';
import { startInference } from '../services/inference/src/index';
import { startBuilder } from '../services/builder/src/index';
import { startRegistry } from '../services/registry/src/index';
import { upload, uploadSource } from '../cli/src/upload';
import { versionText } from '../cli/src/format';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const example = path.join(root, 'examples/iris-onnx');

/** A free loopback port: the services must know each other's addresses before any of them starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const [registryPort, builderPort, inferencePort] = [await freePort(), await freePort(), await freePort()];
const config = loadConfig({
  KILN_DATA_DIR: path.join(root, '.kiln/quickstart'),
  KILN_LOG_LEVEL: 'warn',
  ...process.env,
  KILN_REGISTRY_LISTEN: `127.0.0.1:${registryPort}`,
  KILN_BUILDER_LISTEN: `127.0.0.1:${builderPort}`,
  KILN_INFERENCE_LISTEN: `127.0.0.1:${inferencePort}`,
});
const log = createLogger('quickstart', config.logLevel);
const say = (line: string) => process.stderr.write(`${line}\n`);

say(`kiln quickstart: data in ${config.dataDir} (embedded Postgres, local blobs, OCI layout)`);
const started = [await startInference(config, log), await startBuilder(config, log), await startRegistry(config, log)];
say(`services up: registry ${config.listen.registry}, builder ${config.listen.builder}, inference ${config.listen.inference}`);

const client = registryClient(config.listen.registry);
let exitCode = 1;
try {
  say(`uploading ${path.relative(root, example)} as model "iris"...`);
  const created = await upload(client, await uploadSource(example), { header: { model: 'iris', labels: { source: 'quickstart' } } });
  say(`created iris:${created.version}; following its build:`);
  let final: ModelVersion__Output = created;
  for await (const event of client.WatchModelVersion({ model: 'iris', version: created.version }) as AsyncIterable<WatchModelVersionResponse__Output>) {
    if (event.log) say(`  | ${event.log.line}`);
    if (event.version) final = event.version;
  }
  process.stdout.write(`${versionText(final)}\n`);
  exitCode = final.status === 'MODEL_VERSION_STATUS_RELEASED' ? 0 : 1;
  if (exitCode === 0) {
    say(`\ndone: the image is in the OCI layout at ${config.images.layoutDir}`);
    say(`try: skopeo inspect ${final.imageReference.replace(/@.*$/, '')}   (or run \`npm start\` and use the kiln CLI)`);
  }
} catch (err) {
  say(`quickstart failed: ${(err as Error).message}`);
} finally {
  client.close();
  for (const service of started.reverse()) await service.stop();
}
process.exit(exitCode);
