/**
 * The Deno permission flags `broker/main.ts` runs with, and the one folder it may
 * write. The broker spawns its worker-host processes (which get narrower flags of
 * their own) and loads libzmq through FFI. `deno_tasks.ts` writes these into the
 * `start-broker` task; the root `deno_flags.ts` joins them into `deno task start`'s.
 *
 * @module
 */

/** Where temporary files go: `TMPDIR`, else `/tmp`. */
function tempDir(): string {
  try {
    return Deno.env.get("TMPDIR") ?? "/tmp";
  } catch {
    return "/tmp";
  }
}

/**
 * Where a broker's worker hosts keep their black boxes (see `broker/host/black_box.ts`),
 * each broker in a folder of its own: the one place the broker may write, to clear it.
 */
export const HOST_BOXES_DIR = `${tempDir()}/pipelinin-hosts`;

/** The broker's flags, with the black boxes in `boxesDir`. */
export function brokerFlags(boxesDir: string = HOST_BOXES_DIR): string[] {
  return [
    "--allow-ffi",
    "--allow-read",
    `--allow-write=${boxesDir}`,
    "--allow-env",
    // Unix sockets to its hosts (one per host start, at a random path: Deno grants
    // them by exact path only). It runs subprocesses anyway (`--allow-run`).
    "--allow-net",
    "--allow-sys",
    "--allow-run",
  ];
}

/** The broker's flags in this process's environment. */
export const BROKER_FLAGS: readonly string[] = brokerFlags();
