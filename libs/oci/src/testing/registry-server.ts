// Test support: a Distribution registry (Debian's docker-registry, as scripts/test-env runs) of a test's own, whose
// log says what the registry received: every request it answered, however the client sent it (fetch or node:http),
// so tests count blob uploads and mounts on the registry's side.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One request as the registry logged it. */
export interface LoggedRequest {
  method: string;
  /** The path (`/v2/<repository>/blobs/uploads/<id>`). */
  path: string;
  query: URLSearchParams;
  status: number;
}

export interface TestRegistry {
  /** host:port (plain HTTP, loopback). */
  address: string;
  /** A point in the log: requests() after it are those answered since. */
  mark(): Promise<number>;
  /** The requests answered since `mark` (all of them since start without one), for paths under /v2/<repository>/. */
  requests(since?: number, repository?: string): Promise<LoggedRequest[]>;
  stop(): Promise<void>;
}

/** Blob uploads committed (PUT ...?digest=, 201): the digests whose bytes were sent. */
export const uploadedBlobs = (requests: LoggedRequest[]): string[] =>
  requests.filter((r) => r.method === 'PUT' && r.status === 201 && r.path.includes('/blobs/uploads/') && r.query.get('digest')).map((r) => r.query.get('digest')!);

/** Cross-repository mounts the registry made (POST ?mount=, 201), as `digest from repository`. */
export const mountedBlobs = (requests: LoggedRequest[]): string[] =>
  requests.filter((r) => r.method === 'POST' && r.status === 201 && r.query.get('mount')).map((r) => `${r.query.get('mount')} from ${r.query.get('from')}`);

/** Upload sessions opened (POST .../blobs/uploads/ answered 202: an upload begins, whether or not it was a mount try). */
export const uploadsStarted = (requests: LoggedRequest[]): number =>
  requests.filter((r) => r.method === 'POST' && r.status === 202 && r.path.endsWith('/blobs/uploads/')).length;

// logrus quotes a value only when it needs quoting (the uri of a PUT with `_state=...` does, a POST's does not).
const LINE = /msg="response completed".*?http\.request\.method=(\S+).*?http\.request\.uri=(?:"((?:[^"\\]|\\.)*)"|(\S+)).*?http\.response\.status=(\d+)/;

/** Starts `docker-registry serve` on 127.0.0.1:`port` with its storage and log in a new temp folder. */
export async function startTestRegistry(port: number, command = 'docker-registry'): Promise<TestRegistry> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-test-registry-'));
  const logFile = path.join(dir, 'log');
  const address = `127.0.0.1:${port}`;
  await fs.writeFile(path.join(dir, 'config.yml'), [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${dir}/storage`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${address}`,
    `  secret: kiln-test-${randomBytes(8).toString('hex')}`,
    '',
  ].join('\n'));
  const out = await fs.open(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', out.fd, out.fd] });
  } finally {
    await out.close();
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    await fs.rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    const up = await fetch(`http://${address}/v2/`).then((r) => r.status === 200, () => false);
    if (up) break;
    if (i === 100 || child.exitCode !== null) {
      const log = await fs.readFile(logFile, 'utf8').catch(() => '');
      await stop();
      throw new Error(`${command} did not start on ${address}: ${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  /** Reads the log once the registry has logged a request made now: those answered before it are in. */
  const settledLog = async (): Promise<string> => {
    const nonce = randomBytes(8).toString('hex');
    await fetch(`http://${address}/v2/?kiln-mark=${nonce}`).then((r) => r.body?.cancel());
    for (let i = 0; ; i++) {
      const text = await fs.readFile(logFile, 'utf8');
      if (text.includes(`kiln-mark=${nonce}`) || i === 50) return text;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    address,
    mark: async () => Buffer.byteLength(await settledLog()),
    async requests(since = 0, repository) {
      const text = Buffer.from(await settledLog()).subarray(since).toString('utf8');
      const requests: LoggedRequest[] = [];
      for (const line of text.split('\n')) {
        const m = LINE.exec(line);
        if (!m) continue;
        const url = new URL(m[2] ?? m[3], `http://${address}`);
        if (repository && !url.pathname.startsWith(`/v2/${repository}/`)) continue;
        requests.push({ method: m[1], path: url.pathname, query: url.searchParams, status: Number(m[4]) });
      }
      return requests;
    },
    stop,
  };
}
