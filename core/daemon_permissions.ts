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
 * Permission flags by daemon. The broker writes in `<TMPDIR>/pipelinin-hosts` only,
 * to clear its worker hosts' black boxes (see `broker/host_service.ts`).
 */
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
    `--allow-write=${tempDir()}/pipelinin-hosts`,
    "--allow-env",
    "--allow-sys",
    "--allow-run",
  ],
  pipeliner: ["--allow-ffi", "--allow-read", "--allow-env", "--allow-sys"],
} as const satisfies Record<string, readonly string[]>;
