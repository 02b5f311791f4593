// What every end-to-end test needs from the real servers scripts/test-env started: the variables it exports, a fresh
// Postgres database and a fresh S3 prefix per use (so test files never see each other's data), and free ports.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { loadConfig, type KilnConfig } from '@kiln/config';

/** The variables' values; missing ones fail the test loudly, naming them (npm test starts the servers that set
 * them), so a test never silently skips. */
export function requireEnv<const N extends string>(...names: N[]): Record<N, string> {
  const missing = names.filter((n) => !process.env[n]);
  if (missing.length) {
    throw new Error(`${missing.join(', ')} not set: run the suite with \`npm test\` (or eval "$(bash scripts/test-env start)")`);
  }
  return Object.fromEntries(names.map((n) => [n, process.env[n]!])) as Record<N, string>;
}

export interface TestDatabase {
  url: string;
  /** Drops the database (closing its connections). */
  drop(): Promise<void>;
}

/** Creates an empty database on the test Postgres. */
export async function freshDatabase(): Promise<TestDatabase> {
  const { KILN_TEST_DATABASE_URL: adminUrl } = requireEnv('KILN_TEST_DATABASE_URL');
  const name = `kiln_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {}) };
}

/** The test MinIO as Kiln configuration, under a prefix of its own. */
export function testS3Env(prefix = `test-${randomUUID()}/`): Record<string, string> {
  const t = requireEnv('KILN_TEST_S3_BUCKET', 'KILN_TEST_S3_ENDPOINT', 'KILN_TEST_S3_REGION', 'KILN_TEST_S3_ACCESS_KEY', 'KILN_TEST_S3_SECRET_KEY');
  return {
    KILN_S3_BUCKET: t.KILN_TEST_S3_BUCKET,
    KILN_S3_ENDPOINT: t.KILN_TEST_S3_ENDPOINT,
    KILN_S3_REGION: t.KILN_TEST_S3_REGION,
    KILN_S3_PREFIX: prefix,
    KILN_S3_ACCESS_KEY_ID: t.KILN_TEST_S3_ACCESS_KEY,
    KILN_S3_SECRET_ACCESS_KEY: t.KILN_TEST_S3_SECRET_KEY,
  };
}

/** An S3 client of the test MinIO (scripts/test-env's KILN_TEST_S3_*), or of another server given as its variables
 * (a private MinIO's KILN_PRIVATE_S3_*). */
export function testS3Client(
  server: { endpoint: string; region: string; accessKey: string; secretKey: string } = (() => {
    const t = requireEnv('KILN_TEST_S3_ENDPOINT', 'KILN_TEST_S3_REGION', 'KILN_TEST_S3_ACCESS_KEY', 'KILN_TEST_S3_SECRET_KEY');
    return { endpoint: t.KILN_TEST_S3_ENDPOINT, region: t.KILN_TEST_S3_REGION, accessKey: t.KILN_TEST_S3_ACCESS_KEY, secretKey: t.KILN_TEST_S3_SECRET_KEY };
  })(),
): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey },
  });
}

/** Deletes every object under `prefix` in the test bucket: big uploads would otherwise fill the shared MinIO's disk. */
export async function emptyS3Prefix(prefix: string): Promise<void> {
  const t = requireEnv('KILN_TEST_S3_BUCKET');
  const s3 = testS3Client();
  try {
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: t.KILN_TEST_S3_BUCKET, Prefix: prefix, ContinuationToken }));
      const Objects = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (Objects.length) await s3.send(new DeleteObjectsCommand({ Bucket: t.KILN_TEST_S3_BUCKET, Delete: { Objects } }));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  } finally {
    s3.destroy();
  }
}

/** Environment for a Kiln on the real Postgres and S3 server, listening on free ports; `extra` overrides any
 * variable. */
export async function realServersEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kiln-test-'));
  return {
    KILN_DATA_DIR: dataDir,
    DATABASE_URL: (await freshDatabase()).url,
    ...testS3Env(),
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

/** Ports this process handed out already (each is bound a little later, by a service that is still starting). */
const handedOut = new Set<number>();

/**
 * A loopback port that nothing listens on right now (for services that must know each other's address), picked below
 * the kernel's ephemeral range as scripts/test-env picks its servers' ports: a port the kernel hands out (port 0)
 * can be taken by an outgoing connection between this pick and the service's bind, and the suite makes many.
 */
export async function freePort(): Promise<number> {
  const range = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '');
  const low = Number(range.trim().split(/\s+/)[0]);
  const top = low > 11_000 ? low : 32_768;
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * (top - 10_000));
    if (handedOut.has(port)) continue;
    const server = net.createServer();
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!listening) continue;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    handedOut.add(port);
    return port;
  }
}
