/**
 * The `deno.permissions` of a function's Web Worker, as the broker builds them and
 * the host hands them to `new Worker`. `run`, `ffi`, `sys` and `import` are never
 * granted: each would escape the sandbox.
 *
 * @module
 */

/** The `deno.permissions` option of a function's Web Worker. */
export interface WorkerPermissions {
  net: boolean | string[];
  read: boolean | string[];
  write: boolean | string[];
  env: boolean | string[];
  run: false;
  ffi: false;
  sys: false;
  import: false;
}

/** A worker with no permissions but reading `read` (e.g. to describe a module). */
export function readOnlyPermissions(read: string[]): WorkerPermissions {
  return {
    net: false,
    read,
    write: false,
    env: false,
    run: false,
    ffi: false,
    sys: false,
    import: false,
  };
}
