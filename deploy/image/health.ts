// The image's health check (`kiln-server health`, the config's Healthcheck): grpc.health.v1 of every service the
// container runs, on loopback at its listen port. Exit 0 when all are SERVING, 1 otherwise (Docker's contract).
import { readdirSync, readFileSync } from 'node:fs';
import { loadConfig } from '@kiln/config';
import { checkHealth } from '@kiln/api/health-client';

type Service = 'registry' | 'builder' | 'inference';
const ALL: Service[] = ['registry', 'builder', 'inference'];

/**
 * Which services this container runs: the mode the entrypoint process was started with (the check is a second
 * process, which does not see the container's arguments), else KILN_SERVICE, else all.
 */
function runningMode(): string {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!argv[1]?.endsWith('/entrypoint.mjs') || Number(pid) === process.pid) continue;
    const mode = argv[2] || process.env.KILN_SERVICE || 'all';
    if (mode !== 'health' && mode !== 'kiln') return mode;
  }
  return process.env.KILN_SERVICE || 'all';
}

/** 0.0.0.0:50051 -> 127.0.0.1:50051; [::]:50051 -> [::1]:50051. */
function loopback(listen: string): string {
  const port = listen.slice(listen.lastIndexOf(':') + 1);
  const host = listen.slice(0, listen.lastIndexOf(':'));
  if (host === '' || host === '0.0.0.0') return `127.0.0.1:${port}`;
  if (host === '[::]') return `[::1]:${port}`;
  return listen;
}

export async function runHealthCheck(only?: string): Promise<number> {
  const config = loadConfig();
  const mode = only ?? runningMode();
  const services = mode === 'all' ? ALL : ALL.filter((s) => s === mode);
  if (services.length === 0) {
    process.stderr.write(`health: unknown service ${JSON.stringify(mode)}\n`);
    return 1;
  }
  const results = await Promise.all(
    services.map(async (s) => {
      // With TLS the certificate is checked against the name the other services reach this one at.
      const reachedAt = config.addresses[s];
      const serverName = config.tls.client ? reachedAt.slice(0, reachedAt.lastIndexOf(':')).replace(/^\[|\]$/g, '') : undefined;
      const status = await checkHealth(loopback(config.listen[s]), '', { tls: config.tls.client, serverName, deadlineMs: 3000 }).catch(
        (err: Error) => err.message,
      );
      return [s, status] as const;
    }),
  );
  const line = results.map(([s, status]) => `${s}: ${status}`).join(', ');
  const ok = results.every(([, status]) => status === 'SERVING');
  (ok ? process.stdout : process.stderr).write(`${line}\n`);
  return ok ? 0 : 1;
}
