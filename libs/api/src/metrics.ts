// Prometheus metrics for every Kiln service (prom-client): per-RPC calls, codes and latency recorded by the metrics
// interceptor, constructors for a service's own metrics, and the HTTP endpoint that serves them all at /metrics.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import client from 'prom-client';

/** One registry per process: a service's metrics carry its name (grpc_service), and a process serves them at one
 * endpoint (see metricsAddressFor), so a scrape never counts a call twice. */
export const metricsRegistry = new client.Registry();
client.collectDefaultMetrics({ register: metricsRegistry });

const RPC_LABELS = ['grpc_service', 'grpc_method', 'grpc_type'] as const;

export const rpcStarted = new client.Counter({
  name: 'grpc_server_started_total',
  help: 'RPCs started on the server, by service, method and type',
  labelNames: RPC_LABELS,
  registers: [metricsRegistry],
});

export const rpcHandled = new client.Counter({
  name: 'grpc_server_handled_total',
  help: 'RPCs completed on the server, by service, method, type and gRPC status code (OK included)',
  labelNames: [...RPC_LABELS, 'grpc_code'],
  registers: [metricsRegistry],
});

export const rpcSeconds = new client.Histogram({
  name: 'grpc_server_handling_seconds',
  help: 'Time from an RPC\'s start to its status, by service, method and type',
  labelNames: RPC_LABELS,
  // 0.5 ms to 10 min: lookups at the low end, uploads, downloads and watches at the high end.
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600],
  registers: [metricsRegistry],
});

/** Metrics of one service (the registry's builds, say), made in the process's registry so /metrics serves them. */
export function counter<L extends string>(config: Omit<client.CounterConfiguration<L>, 'registers'>): client.Counter<L> {
  return new client.Counter({ ...config, registers: [metricsRegistry] });
}
export function histogram<L extends string>(config: Omit<client.HistogramConfiguration<L>, 'registers'>): client.Histogram<L> {
  return new client.Histogram({ ...config, registers: [metricsRegistry] });
}
export function gauge<L extends string>(config: Omit<client.GaugeConfiguration<L>, 'registers'>): client.Gauge<L> {
  return new client.Gauge({ ...config, registers: [metricsRegistry] });
}

export interface MetricsServer {
  /** host:port bound (port 0 picks a free one). */
  address: string;
  close(): Promise<void>;
}

/** Serves the process's metrics at http://address/metrics (Prometheus text format). */
export async function startMetricsServer(address: string, log: Logger): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    metricsRegistry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host.replace(/^\[|\]$/g, ''), () => resolve());
  });
  const bound = `${host}:${(server.address() as AddressInfo).port}`;
  log.info({ address: bound }, 'metrics listening at /metrics');
  return {
    address: bound,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** Which service's metrics setting (KILN_<NAME>_METRICS_LISTEN) a process running `services` serves its one /metrics
 * endpoint at: the first of registry, builder, inference that runs here with its endpoint enabled. One endpoint per
 * process, as Prometheus expects: three endpoints serving one process's counters would make every sum across
 * targets count each call three times. */
export function metricsEndpointFor(
  services: readonly string[],
  listen: Partial<Record<string, string | undefined>>,
): { service: string; address: string } | undefined {
  const preference = ['registry', 'builder', 'inference'];
  const ordered = [...services].sort((a, b) => rank(a) - rank(b));
  for (const service of ordered) {
    const address = listen[service];
    if (address) return { service, address };
  }
  return undefined;

  function rank(name: string): number {
    const i = preference.indexOf(name);
    return i < 0 ? preference.length : i;
  }
}
