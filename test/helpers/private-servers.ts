// Test helper: a Postgres or a MinIO of one test's own (scripts/test-env private ...), which the test may stop, crash
// and start again on the same port and data, without disturbing the servers every other test shares.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './kiln-process';

const run = promisify(execFile);

export interface PrivateServer {
  /** The folder of its data (MinIO's under minio/, Postgres's under postgres/data). */
  dir: string;
  /** Its KILN_PRIVATE_* exports from the last start. */
  env: Record<string, string>;
  start(): Promise<void>;
  /** A clean shutdown. */
  stop(): Promise<void>;
  /** Gone at once, as in a crash: MinIO SIGKILLed, Postgres's immediate shutdown (it recovers at the next start). */
  crash(): Promise<void>;
  /** Stops it and deletes its folder. */
  remove(): Promise<void>;
}

async function testEnv(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('bash', [path.join(REPO_ROOT, 'scripts/test-env'), 'private', ...args], { timeout: 120_000 });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`scripts/test-env private ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

function exportsOf(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout.split('\n').filter((l) => l.startsWith('export ')).map((l) => {
      const [k, ...v] = l.slice('export '.length).split('=');
      return [k, v.join('=')];
    }),
  );
}

async function privateServer(kind: 'postgres' | 'minio'): Promise<PrivateServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `kiln-private-${kind}-`));
  const server: PrivateServer = {
    dir,
    env: {},
    async start() {
      server.env = exportsOf(await testEnv(kind, dir, 'start'));
    },
    stop: async () => void (await testEnv(kind, dir, 'stop')),
    crash: async () => void (await testEnv(kind, dir, 'crash')),
    remove: async () => void (await testEnv(kind, dir, 'remove')),
  };
  await server.start();
  return server;
}

/** A Postgres of the test's own: KILN_PRIVATE_DATABASE_URL. */
export const privatePostgres = () => privateServer('postgres');
/** A MinIO of the test's own with its bucket made: KILN_PRIVATE_S3_{ENDPOINT,BUCKET,REGION,ACCESS_KEY,SECRET_KEY}. */
export const privateMinio = () => privateServer('minio');
