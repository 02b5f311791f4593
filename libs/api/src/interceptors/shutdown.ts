// Keeps every call's promise until its handler has settled, cleaning up included, so that a shutdown can wait for
// cancelled calls (an upload removing what it stored) before the database and the blob store close.
import type { Interceptor } from './interceptor';

export function trackCalls(inFlight: Set<Promise<void>>): Interceptor {
  return (next) => (call) => {
    const running = next(call);
    const settled: Promise<void> = running.then(() => {}, () => {}).finally(() => inFlight.delete(settled));
    inFlight.add(settled);
    return running;
  };
}
