// services/all.ts with each service's /metrics endpoint (withMetrics), for test/metrics.test.ts until services/run.ts
// or services/all.ts wires withMetrics in; then the test can run services/all.ts itself.
import { withMetrics } from '@kiln/api/metrics';
import { startInference } from '../../services/inference/src/index';
import { startBuilder } from '../../services/builder/src/index';
import { startRegistry } from '../../services/registry/src/index';
import { runServices } from '../../services/run';

await runServices([
  ['inference', withMetrics('inference', startInference)],
  ['builder', withMetrics('builder', startBuilder)],
  ['registry', withMetrics('registry', startRegistry)],
]);
