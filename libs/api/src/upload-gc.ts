// Paces garbage collection by upload bytes, so that a streamed upload's dead buffers are freed while young and a
// long upload's memory stays flat.
//
// Every byte uploaded through grpc-js becomes garbage twice, outside V8's heap: the HTTP/2 socket read buffer, then
// the message grpc-js concatenates from those reads. V8 sees little of it (the JS objects are tiny), so its young
// generation rarely fills, and a collection comes only when external memory has grown by 64 MiB: a full
// mark-compact every ~32 MiB uploaded, with up to ~64 MiB of dead buffers resident in between. A young-generation
// collection after every few MiB of upload frees them cheaply, and spares those full collections.
// What outlives two young collections (such as an S3 part request, in flight longer than 8 MiB of upload) moves to the
// old generation and dies there, with the buffers it holds, so residency creeps up with every GiB until V8's
// external-memory limit (64 MiB) starts a full collection. A full collection forced after every GiB keeps a long
// upload flat. Not more often: once one is forced, V8 also collects fully much more often by itself, which costs
// the registry CPU per GiB (the figures behind each choice: bench/README.md, "Measurements behind code choices").
import v8 from 'node:v8';
import vm from 'node:vm';

/** Upload bytes (across all of the process's uploads) between two young-generation collections. */
export const UPLOAD_BYTES_PER_COLLECTION = 8 * 1024 * 1024;
/** Upload bytes between two full collections (each in place of a young-generation one). */
export const UPLOAD_BYTES_PER_FULL_COLLECTION = 1024 * 1024 * 1024;

type CollectGarbage = (options: { type: 'minor' | 'major'; execution: 'sync' | 'async' }) => void;

/**
 * V8's `gc` function. Node 20 has no API to ask for a collection; setting V8's --expose-gc flag at run time
 * installs `gc` in contexts created afterwards (what the `expose-gc` npm package does too), so a fresh context
 * yields it without touching this one's globals. Undefined where that does not hold: uploads then work as before.
 */
const collectGarbage: CollectGarbage | undefined = (() => {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
    return typeof gc === 'function' ? (gc as CollectGarbage) : undefined;
  } catch {
    return undefined;
  }
})();

let bytesSinceCollection = 0;
let bytesSinceFullCollection = 0;

/** Counts `bytes` just received by an upload; collects garbage once enough have gone by. */
export function countUploadBytes(bytes: number): void {
  bytesSinceCollection += bytes;
  bytesSinceFullCollection += bytes;
  if (bytesSinceCollection < UPLOAD_BYTES_PER_COLLECTION || !collectGarbage) return;
  bytesSinceCollection = 0;
  if (bytesSinceFullCollection >= UPLOAD_BYTES_PER_FULL_COLLECTION) {
    bytesSinceFullCollection = 0;
    collectGarbage({ type: 'major', execution: 'async' }); // on a task of its own: the upload goes on
  } else {
    collectGarbage({ type: 'minor', execution: 'sync' });
  }
}

/** Whether uploads pace collections here (false on a runtime without V8's gc function). */
export const pacesCollections = collectGarbage !== undefined;
