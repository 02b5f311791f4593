// Configuration for end-to-end tests against the real servers scripts/test-env started: a fresh Postgres database
// and a fresh S3 prefix per call, so test files never see each other's data.
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, type KilnConfig } from '@kiln/config';

/** The variable's value; a missing one fails the test loudly (npm test starts the servers that set them). */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite with \`npm test\`, which starts the test servers (scripts/test-env)`);
  return value;
}

/** Creates an empty database on the test Postgres and returns its URL. */
export async function freshDatabase(): Promise<string> {
  const admin = new URL(requireEnv('KILN_TEST_DATABASE_URL'));
  const name = `kiln_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  admin.pathname = `/${name}`;
  return admin.toString();
}

/** Environment for a Kiln on the real Postgres and S3 server; `extra` overrides any variable. */
export async function realServersEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kiln-test-'));
  return {
    KILN_DATA_DIR: dataDir,
    DATABASE_URL: await freshDatabase(),
    KILN_S3_BUCKET: requireEnv('KILN_TEST_S3_BUCKET'),
    KILN_S3_ENDPOINT: requireEnv('KILN_TEST_S3_ENDPOINT'),
    KILN_S3_REGION: requireEnv('KILN_TEST_S3_REGION'),
    KILN_S3_PREFIX: `test-${randomUUID()}/`,
    KILN_S3_ACCESS_KEY_ID: requireEnv('KILN_TEST_S3_ACCESS_KEY'),
    KILN_S3_SECRET_ACCESS_KEY: requireEnv('KILN_TEST_S3_SECRET_KEY'),
    KILN_REGISTRY_LISTEN: '127.0.0.1:0',
    KILN_INFERENCE_LISTEN: '127.0.0.1:0',
    KILN_BUILDER_LISTEN: '127.0.0.1:0',
    KILN_LOG_LEVEL: process.env.KILN_TEST_LOG_LEVEL ?? 'warn',
    ...extra,
  };
}

export function configFrom(env: Record<string, string>): KilnConfig {
  return loadConfig({ ...process.env, ...env });
}
