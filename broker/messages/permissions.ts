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

/**
 * Parses the permissions a broker hands its host for one function. A kind left out
 * would be inherited from the host, which has FFI, so `run`, `ffi`, `sys` and
 * `import` must each be `false`.
 *
 * @throws {TypeError} naming the field that is not as it must be.
 */
export function parseWorkerPermissions(value: unknown): WorkerPermissions {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError("permissions must be an object");
  }
  const fields = value as Record<string, unknown>;
  for (const kind of ["run", "ffi", "sys", "import"]) {
    if (fields[kind] !== false) throw new TypeError(`permissions.${kind} must be false`);
  }
  const grant = (kind: string): boolean | string[] => {
    const grant = fields[kind];
    if (typeof grant === "boolean") return grant;
    if (Array.isArray(grant) && grant.every((item) => typeof item === "string")) {
      return [...grant];
    }
    throw new TypeError(`permissions.${kind} must be a boolean or a list of strings`);
  };
  return {
    net: grant("net"),
    read: grant("read"),
    write: grant("write"),
    env: grant("env"),
    run: false,
    ffi: false,
    sys: false,
    import: false,
  };
}
