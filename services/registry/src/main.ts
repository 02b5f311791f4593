// Runs the registry service alone.
import { runServices } from '../../run';
import { startRegistry } from './index';

await runServices([['registry', startRegistry]]);
