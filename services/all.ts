// `npm start`: the three services in one process on the configured (by default embedded) parts. They still talk to
// each other only over gRPC, at the addresses in the configuration.
import { startInference } from './inference/src/index';
import { startBuilder } from './builder/src/index';
import { startRegistry } from './registry/src/index';
import { runServices } from './run';

await runServices([
  ['inference', startInference],
  ['builder', startBuilder],
  ['registry', startRegistry],
]);
