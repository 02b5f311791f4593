// The environment Kiln's services run in besides their own configuration. `npm start` sets it (package.json), and so
// do the tests and benchmarks that start services as it does; set it too wherever services run (a container's ENV).
//
// glibc's malloc gives each block above its mmap threshold a mapping of its own, returned to the system when freed;
// but every such block freed raises the threshold to its size (up to 32 MiB). Soon a streamed upload's 1 MiB gRPC
// messages come from the main heap instead, which keeps the most ever in use at once, fragmented, and never shrinks.
// Setting the threshold turns the raising off: the registry's peak RSS during an upload is ~20 MiB lower
// (bench/README.md). Other C libraries ignore the variable.

/** glibc's tunable for it, in GLIBC_TUNABLES syntax; package.json's start script spells the same. */
export const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=131072';

/** `env` with Kiln's malloc tunables, unless it sets GLIBC_TUNABLES itself (the operator's own then win). */
export function withServiceEnv<T extends Record<string, string | undefined>>(env: T): T & { GLIBC_TUNABLES: string } {
  return { ...env, GLIBC_TUNABLES: env.GLIBC_TUNABLES || MALLOC_TUNABLES };
}
