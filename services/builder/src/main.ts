// Runs the builder service alone (`node scripts/service.mjs services/builder/src/main.ts`); SIGTERM drains in-flight builds and stops.
import { runServices } from '../../run';
import { startBuilder } from './index';

await runServices([['builder', startBuilder]]);
