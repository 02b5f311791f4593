// Prometheus metrics for every Kiln service (prom-client): per-RPC calls, codes and latency recorded by the gRPC
// server wrapper, the registry's upload bytes and builds, and the HTTP endpoint that serves them at /metrics.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import client from 'prom-client';

/** One registry per process: a service's metrics carry its name (grpc_service), so when several services share a
 * process (`npm start`) every endpoint serves the same, complete set. */
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

export const uploadBytes = new client.Counter({
  name: 'kiln_registry_upload_bytes_total',
  help: 'Bytes of model files the registry stored from uploads (after decompression), committed or not',
  registers: [metricsRegistry],
});

export const buildsFinished = new client.Counter({
  name: 'kiln_registry_builds_total',
  help: 'Build attempts by outcome: released, failed (final), retried (transient error, tried again)',
  labelNames: ['outcome'],
  registers: [metricsRegistry],
});

export const buildSeconds = new client.Histogram({
  name: 'kiln_registry_build_duration_seconds',
  help: 'Duration of build attempts as the registry saw them (Builder call to result), by outcome',
  labelNames: ['outcome'],
  buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
  registers: [metricsRegistry],
});

let queueDepthSource: (() => Promise<number>) | undefined;
/** The registry tells where its build queue's depth comes from; read at each scrape. */
export function setBuildQueueDepthSource(source: (() => Promise<number>) | undefined): void {
  queueDepthSource = source;
}
new client.Gauge({
  name: 'kiln_registry_build_queue_depth',
  help: 'Build jobs waiting or running in the registry\'s queue (read at scrape time)',
  registers: [metricsRegistry],
  async collect() {
    if (queueDepthSource) this.set(await queueDepthSource().catch(() => Number.NaN));
  },
});

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

/**
 * Wraps a service starter so the service also serves /metrics at config.metrics[name] (when enabled), stopped with
 * it: `['registry', withMetrics('registry', startRegistry)]` in services/all.ts or services/run.ts.
 */
export function withMetrics<
  C extends { metrics: Partial<Record<string, string | undefined>> },
  S extends { address: string; stop(): Promise<void> },
>(name: string, start: (config: C, log: Logger) => Promise<S>): (config: C, log: Logger) => Promise<S> {
  return async (config, log) => {
    const service = await start(config, log);
    const at = config.metrics[name];
    if (!at) return service;
    let metrics: MetricsServer;
    try {
      metrics = await startMetricsServer(at, log);
    } catch (err) {
      await service.stop();
      throw new Error(`${name} metrics cannot listen on ${at} (set KILN_${name.toUpperCase()}_METRICS_LISTEN, or off): ${(err as Error).message}`);
    }
    const stop = service.stop.bind(service);
    return Object.assign(service, {
      async stop() {
        await stop();
        await metrics.close();
      },
    });
  };
}
