// A bounded worker pool over a list.

/**
 * Calls `fn` on every item, at most `limit` at once, in order of the list. On the first failure no further item is
 * started, and the error is thrown only once every call already running has settled, so no work outlives the call
 * (a read of a file about to be closed, a push of a build already failed). Written here because the pools on npm
 * (p-map, p-limit) reject at the first failure while the other calls still run.
 */
export async function forEachConcurrently<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
}
