// Runs one or more services in this process until SIGTERM/SIGINT, then drains in-flight calls and exits.
import { loadConfig, type KilnConfig } from '@kiln/config';
import { createProcessLogger, type Logger } from '@kiln/log';
import { metricsEndpointFor, startMetricsServer } from '@kiln/api/metrics';

export interface Stoppable {
  address: string;
  stop(): Promise<void>;
}

export type ServiceStarter = (config: KilnConfig, log: Logger) => Promise<Stoppable>;

/** A start that failed on a setting's value (a port in use): what to change, not a stack trace. */
class SettingError extends Error {}

/** The error for a service whose listen address is taken, naming the setting; undefined for any other failure. */
function portInUse(err: unknown, service: string, config: KilnConfig): SettingError | undefined {
  const text = err instanceof Error ? err.message : String(err);
  if (!/EADDRINUSE|address already in use|No address added out of total/i.test(text)) return undefined;
  const address = (config.listen as Record<string, string | undefined>)[service] ?? '';
  return new SettingError(`KILN_${service.toUpperCase()}_LISTEN is ${address}, already in use: stop what listens there or choose another address`);
}

/** The line a rejection nobody handled is logged with (tests fail on it: see test/helpers/kiln-process.ts). */
export const UNHANDLED_REJECTION = 'unhandled promise rejection: a bug, the process keeps serving';

export async function runServices(starters: Array<[name: string, start: ServiceStarter]>): Promise<void> {
  const config = loadConfig();
  const root = createProcessLogger('kiln', config.logLevel);
  keepServingOnUnhandledRejections(root);
  quietAwsSdkNodeNotice(config, root);
  const running: Array<[string, Stoppable]> = [];
  try {
    // All at once: the services reach each other only when a call needs to, so none waits for another to start,
    // and the registry's database boots (PGlite compiles its wasm off the main thread) while the others start. Each
    // binds its port only once it is ready to serve. `running` keeps the given order, for stopping in reverse.
    const started = await Promise.allSettled(starters.map(([name, start]) => start(config, root.child({ service: name }))));
    started.forEach((r, i) => r.status === 'fulfilled' && running.push([starters[i][0], r.value]));
    const failedAt = started.findIndex((r) => r.status === 'rejected');
    if (failedAt >= 0) {
      const reason = (started[failedAt] as PromiseRejectedResult).reason;
      throw portInUse(reason, starters[failedAt][0], config) ?? reason;
    }
    // The process's Prometheus /metrics, once, at the first of its services' KILN_<NAME>_METRICS_LISTEN.
    const endpoint = metricsEndpointFor(starters.map(([name]) => name), config.metrics);
    if (endpoint) {
      const metrics = await startMetricsServer(endpoint.address, root).catch((err: Error) => {
        throw new Error(`metrics cannot listen on ${endpoint.address} (set KILN_${endpoint.service.toUpperCase()}_METRICS_LISTEN, or off): ${err.message}`);
      });
      running.unshift(['metrics', { address: metrics.address, stop: () => metrics.close() }]);
    }
  } catch (err) {
    // A mistake in the settings is said in one line, without a stack: the stack would only hide it.
    if (err instanceof SettingError) root.fatal(`start failed: ${err.message}`);
    else root.fatal({ err }, 'start failed');
    for (const [, s] of running.reverse()) await s.stop().catch(() => {});
    process.exit(1);
  }
  root.info({ services: Object.fromEntries(running.map(([n, s]) => [n, s.address])) }, 'kiln is up');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    root.info({ signal }, 'draining in-flight calls');
    // Stop in reverse order of start, so the registry stops taking uploads before its dependencies go.
    for (const [name, s] of [...running].reverse()) {
      await s.stop().catch((err) => root.error({ err, service: name }, 'stop failed'));
    }
    root.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/**
 * Node ends the process on a rejection nobody handled, and with it every call and build of every service in it.
 * One failed promise is one failed operation: it is logged at fatal level with its stack, for someone to fix, and
 * the services go on.
 */
function keepServingOnUnhandledRejections(log: Logger): void {
  process.on('unhandledRejection', (reason) => log.fatal({ err: reason }, UNHANDLED_REJECTION));
}

/**
 * On Node < 22 the AWS SDK prints a multi-line notice to stderr when its first client is made, which breaks a JSON
 * log stream; it is said once as a log line instead (when S3 is configured), unless the operator set the SDK's own
 * switch.
 */
function quietAwsSdkNodeNotice(config: KilnConfig, log: Logger): void {
  const SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
  if (process.env[SWITCH] !== undefined || Number(process.versions.node.split('.')[0]) >= 22) return;
  process.env[SWITCH] = 'true';
  if (config.blobs.kind === 's3') {
    log.warn({ node: process.version }, 'AWS SDK releases from January 2027 on require node >= 22 (https://a.co/c895JFp)');
  }
}
