// Test helper: Debian's HAProxy (2.6, installed by scripts/test-env) on a free loopback port in front of gRPC
// replicas, HTTP/2 in cleartext on both sides, each replica health-checked by a real grpc.health.v1 call, stopped after.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './test-config';

export interface HaproxyOptions {
  /** The replicas' host:port. */
  servers: string[];
  /** The service the health check asks grpc.health.v1 about ('' is the whole server). */
  healthService?: string;
  /** How often each replica is checked (default 500 ms); `fall` failed checks in a row take it out (default 2), one
   * passed check puts it back. */
  checkIntervalMs?: number;
  fall?: number;
  /** Calls HAProxy may send again to another replica when the one it chose closed without answering: those that
   * change nothing (default: the Registry's Get, List, Watch, Download and Diff calls, health and reflection). Any
   * other call (an upload) is retried only when it never reached a replica (the connection was refused). */
  retryablePaths?: string;
}

/** The Registry's calls that change nothing: a replay of one is harmless. */
export const REGISTRY_READS = '^/(kiln[.]v1[.]Registry/(Get|List|Watch|Download|Diff)|grpc[.])';

export interface Haproxy {
  /** host:port clients call. */
  address: string;
  pid: number;
  checkIntervalMs: number;
  fall: number;
  /** Each replica's state as HAProxy sees it now ('UP', 'DOWN', 'UP 1/2', ...), by host:port. */
  states(): Promise<Record<string, string>>;
  /** The calls each replica has in flight now (HAProxy's `scur`), by host:port. */
  inFlight(): Promise<Record<string, number>>;
  /** Resolves once HAProxy sees every replica in `want` ('UP' or 'DOWN'). */
  waitFor(server: string, want: 'UP' | 'DOWN', timeoutMs?: number): Promise<void>;
  /** HAProxy's log so far (health changes, errors). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * A gRPC health check as raw HTTP/2 frames, for `tcp-check send-binary`: HAProxy 2.6's `http-check` cannot send a
 * body with NUL bytes, which every gRPC message's 5-byte prefix has. The client preface, an empty SETTINGS and the
 * ACK of the server's, HEADERS (HPACK literals, no Huffman: POST, http, the path, an authority, content-type
 * application/grpc, te: trailers), then one DATA frame ending the stream: a HealthCheckRequest naming `service`.
 */
export function grpcHealthCheckFrames(service: string): string {
  const literal = (nameIndex: number, value: string) => Buffer.concat([Buffer.from([nameIndex, value.length]), Buffer.from(value)]);
  const headers = Buffer.concat([
    Buffer.from([0x83, 0x86]), // :method POST, :scheme http (static table)
    literal(0x04, '/grpc.health.v1.Health/Check'), // :path, literal without indexing
    literal(0x01, 'haproxy-check'), // :authority
    Buffer.from([0x0f, 0x10, 16]), Buffer.from('application/grpc'), // content-type (static index 31)
    Buffer.from([0x00, 2]), Buffer.from('te'), Buffer.from([8]), Buffer.from('trailers'),
  ]);
  const frame = (type: number, flags: number, stream: number, payload: Buffer) => {
    const head = Buffer.alloc(9);
    head.writeUIntBE(payload.length, 0, 3);
    head[3] = type;
    head[4] = flags;
    head.writeUInt32BE(stream, 5);
    return Buffer.concat([head, payload]);
  };
  const name = Buffer.from(service);
  const request = name.length ? Buffer.concat([Buffer.from([0x0a, name.length]), name]) : Buffer.alloc(0);
  const message = Buffer.concat([Buffer.from([0, 0, 0, 0, request.length]), request]);
  return Buffer.concat([
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
    frame(0x4, 0, 0, Buffer.alloc(0)), // SETTINGS
    frame(0x4, 0x1, 0, Buffer.alloc(0)), // SETTINGS ACK
    frame(0x1, 0x4, 1, headers), // HEADERS, END_HEADERS
    frame(0x0, 0x1, 1, message), // DATA, END_STREAM
  ]).toString('hex');
}

/** The answer a SERVING replica's DATA frame carries: an uncompressed 2-byte message, field 1 = 1 (SERVING). */
const SERVING_MESSAGE = '00000000020801';

export async function startHaproxy(options: HaproxyOptions): Promise<Haproxy> {
  const checkIntervalMs = options.checkIntervalMs ?? 500;
  const fall = options.fall ?? 2;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-haproxy-'));
  const port = await freePort();
  const socket = path.join(dir, 'admin.sock');
  const servers = options.servers.map((s, i) => `  server r${i} ${s} proto h2 check inter ${checkIntervalMs}ms fall ${fall} rise 1`);
  const config = [
    'global',
    '  log stdout format raw local0 info',
    `  stats socket ${socket} level admin`,
    'defaults',
    '  mode http',
    '  log global',
    '  option httplog',
    '  option dontlog-normal',
    // A connection refused (a replica dead before its checks noticed) is retried on another replica, for any call;
    // a read whose replica closed before answering (killed mid-call) too; any other call then fails (a 502:
    // UNAVAILABLE to gRPC), since its replica may have done it.
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response junk-response',
    '  timeout connect 1s',
    // A check that gets no SERVING answer fails after this (a dead replica: at once, refused).
    `  timeout check ${Math.min(1000, checkIntervalMs)}ms`,
    // Watches and build logs stream for minutes with nothing to say.
    '  timeout client 1h',
    '  timeout server 1h',
    'frontend grpc',
    `  bind 127.0.0.1:${port} proto h2`,
    `  http-request disable-l7-retry unless { path -m reg ${options.retryablePaths ?? REGISTRY_READS} }`,
    '  default_backend replicas',
    'backend replicas',
    // Each call to the replica with the fewest in flight: uploads, downloads and watches last seconds to hours,
    // reads milliseconds, and round robin by count would let the long ones pile up on one replica.
    '  balance leastconn',
    '  option tcp-check',
    '  tcp-check connect',
    `  tcp-check send-binary ${grpcHealthCheckFrames(options.healthService ?? '')}`,
    `  tcp-check expect binary ${SERVING_MESSAGE}`,
    ...servers,
    '',
  ].join('\n');
  const file = path.join(dir, 'haproxy.cfg');
  await fs.writeFile(file, config);

  let child: ChildProcess;
  try {
    child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw new Error(`haproxy could not be started (${(err as Error).message}): scripts/test-env start installs Debian's haproxy`);
  }
  let output = '';
  const keep = (b: Buffer) => {
    output += b.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));

  const adminCommand = (command: string) => new Promise<string>((resolve, reject) => {
    const c = net.connect(socket);
    let answer = '';
    c.on('data', (b) => (answer += b.toString()));
    c.on('end', () => resolve(answer));
    c.on('error', reject);
    c.end(`${command}\n`);
  });
  /** `show stat` CSV (pxname, svname, ..., scur, ..., status): one column, by replica (servers in config order). */
  const column = async (name: string) => {
    const csv = await adminCommand('show stat');
    const header = csv.split('\n')[0].replace(/^# /, '').split(',');
    const index = header.indexOf(name);
    const result: Record<string, string> = {};
    for (const line of csv.split('\n').slice(1)) {
      const cols = line.split(',');
      const m = /^r(\d+)$/.exec(cols[1] ?? '');
      if (cols[0] === 'replicas' && m) result[options.servers[Number(m[1])]] = cols[index];
    }
    return result;
  };
  const states = () => column('status');
  const inFlight = async () => Object.fromEntries(Object.entries(await column('scur')).map(([k, v]) => [k, Number(v)]));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await fs.rm(dir, { recursive: true, force: true });
  };
  const waitFor = async (server: string, want: 'UP' | 'DOWN', timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = (await states().catch((err) => ({ [server]: (err as Error).message })))[server] ?? 'unknown';
      if (last === want) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`haproxy saw ${server} as ${last}, not ${want}, after ${timeoutMs} ms\n${output}`);
  };
  try {
    for (const s of options.servers) await waitFor(s, 'UP', 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address: `127.0.0.1:${port}`, pid: child.pid!, checkIntervalMs, fall, states, inFlight, waitFor, output: () => output, stop };
}
