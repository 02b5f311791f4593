// The registry's own Prometheus metrics (upload bytes, builds, the build queue), made in the process's one metrics
// registry (@kiln/api/metrics), which also holds the generic grpc_server_* metrics and serves them at /metrics.
import { counter, gauge, histogram } from '@kiln/api/metrics';

export const uploadBytes = counter({
  name: 'kiln_registry_upload_bytes_total',
  help: 'Bytes of model files the registry stored from uploads (after decompression), committed or not',
});

export const buildsFinished = counter({
  name: 'kiln_registry_builds_total',
  help: 'Build attempts by outcome: released, failed (final), retried (transient error, tried again)',
  labelNames: ['outcome'],
});

export const buildSeconds = histogram({
  name: 'kiln_registry_build_duration_seconds',
  help: 'Duration of build attempts as the registry saw them (Builder call to result), by outcome',
  labelNames: ['outcome'],
  buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
});

let queueDepthSource: (() => Promise<number>) | undefined;
/** The build queue tells where its depth comes from; read at each scrape. */
export function setBuildQueueDepthSource(source: (() => Promise<number>) | undefined): void {
  queueDepthSource = source;
}
gauge({
  name: 'kiln_registry_build_queue_depth',
  help: 'Build jobs waiting or running in the registry\'s queue (read at scrape time)',
  async collect() {
    if (queueDepthSource) this.set(await queueDepthSource().catch(() => Number.NaN));
  },
});
