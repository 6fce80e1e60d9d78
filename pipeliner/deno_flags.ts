/**
 * The Deno permission flags `pipeliner/main.ts` runs with: it only talks to the Router
 * over ZeroMQ (libzmq through FFI). `deno_tasks.ts` writes these into the
 * `start-pipeliner` task; the root `deno_flags.ts` joins them into `deno task start`'s.
 *
 * @module
 */

/** The Pipeliner's flags. */
export const PIPELINER_FLAGS: readonly string[] = [
  "--allow-ffi",
  "--allow-read",
  "--allow-env",
  "--allow-sys",
];
