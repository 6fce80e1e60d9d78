/**
 * The Deno permission flags each daemon runs with, in one place: `deno task start`
 * and the tests spawn daemons with these (the `start-*` tasks in deno.json spell out
 * the same lists). The Router binds HTTP and writes its store; the broker spawns its
 * worker-host processes; all load libzmq through FFI.
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
 * Where a broker's worker hosts keep their black boxes (see `broker/host_service.ts`),
 * each broker in a folder of its own: the one place the broker may write, to clear it.
 */
export const HOST_BOXES_DIR = `${tempDir()}/pipelinin-hosts`;

/** Permission flags by daemon. */
export const DAEMON_PERMISSIONS = {
  router: [
    "--allow-ffi",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-net",
    "--allow-sys",
  ],
  broker: [
    "--allow-ffi",
    "--allow-read",
    `--allow-write=${HOST_BOXES_DIR}`,
    "--allow-env",
    "--allow-sys",
    "--allow-run",
  ],
  pipeliner: ["--allow-ffi", "--allow-read", "--allow-env", "--allow-sys"],
} as const satisfies Record<string, readonly string[]>;
