/**
 * The Deno permission flags `pipeliner/main.ts` runs with: it talks to the Router over
 * ZeroMQ (libzmq through FFI), and with tracing on it sends its spans to the OTLP
 * collector (`OTEL_EXPORTER_OTLP_ENDPOINT`, any address: hence `--allow-net`).
 * `deno_tasks.ts` writes these into the
 * `start-pipeliner` task; the root `deno_flags.ts` joins them into `deno task start`'s.
 *
 * @module
 */

/** The Pipeliner's flags. */
export const PIPELINER_FLAGS: readonly string[] = [
  "--allow-ffi",
  "--allow-read",
  "--allow-env",
  "--allow-net",
  "--allow-sys",
];
