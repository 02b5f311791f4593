// Runs the inference service alone.
import { runServices } from '../../run';
import { startInference } from './index';

await runServices([['inference', startInference]]);
