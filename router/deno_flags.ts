/**
 * The Deno permission flags `router/main.ts` runs with: it binds HTTP and ZeroMQ,
 * writes its store (wherever `--data-dir` points) and loads libzmq through FFI.
 * `deno_tasks.ts` writes these into the `start-router` task; the root `deno_flags.ts`
 * joins them into `deno task start`'s.
 *
 * @module
 */

/** The Router's flags. */
export const ROUTER_FLAGS: readonly string[] = [
  "--allow-ffi",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-sys",
];
