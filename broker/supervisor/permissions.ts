/**
 * Turns function configs into permissions, at two levels: the `--allow-*` flags of
 * a worker host process (the union of what its functions declare: a Web Worker
 * can only narrow its parent's permissions) and the `deno.permissions` of each
 * function's Web Worker (what that function declares, and reading its own code).
 * `run`, `ffi` and `sys` are never granted: each would escape the sandbox.
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import type { FunctionConfig } from "../../core/types.ts";
import { PERMISSION_KINDS, type PermissionKind } from "../messages/function_config.ts";
import type { WorkerPermissions } from "../messages/permissions.ts";

/**
 * The permissions of a function's worker.
 *
 * @param config The function's validated config.
 * @param moduleRead Paths the worker must read to import the module and its helpers:
 *   Deno checks a worker's dynamic imports against its own read permission.
 * @param functionsDir Relative paths in `config` are relative to this folder.
 */
export function workerPermissions(
  config: FunctionConfig,
  moduleRead: string[],
  functionsDir: string,
): WorkerPermissions {
  const declared = config.permissions ?? {};
  const grant = (kind: PermissionKind): boolean | string[] => {
    const value = declared[kind];
    if (value === undefined || typeof value === "boolean") return value ?? false;
    return entries(kind, value, functionsDir);
  };
  const read = grant("read");
  return {
    net: grant("net"),
    read: read === true ? true : [...moduleRead, ...(read === false ? [] : read)],
    write: grant("write"),
    env: grant("env"),
    run: false,
    ffi: false,
    sys: false,
    import: false,
  };
}

/** What a worker host needs itself, whatever its functions declare. */
export interface HostBase {
  /** Its own code and the functions. */
  read: readonly string[];
  /** A serving host's black box folder. */
  write?: readonly string[];
  /** A serving host's `PIPELININ_LIBZMQ`. */
  env?: readonly string[];
  /** What its store reaches. */
  net?: readonly string[];
}

/**
 * The permission flags of a worker host: what it needs itself (`base`) plus the
 * union of what the functions declare (a declared `true` covers the base too), each
 * config's relative paths relative to its function's folder `dir`. Sorted, so equal
 * sets give equal flags.
 */
export function hostPermissionFlags(
  functions: ReadonlyArray<{ readonly config: FunctionConfig; readonly dir: string }>,
  base: HostBase,
): string[] {
  const flags: string[] = [];
  for (const kind of PERMISSION_KINDS) {
    const own = kind === "read" || kind === "write" || kind === "env" || kind === "net"
      ? base[kind]
      : undefined;
    const union = new Set(own ?? []);
    let all = false;
    for (const { config, dir } of functions) {
      const value = config.permissions?.[kind];
      if (value === true) all = true;
      else if (Array.isArray(value)) {
        for (const entry of entries(kind, value, dir)) union.add(entry);
      }
    }
    if (all) flags.push(`--allow-${kind}`);
    else if (union.size > 0) flags.push(`--allow-${kind}=${[...union].sort().join(",")}`);
  }
  return flags;
}

function entries(kind: PermissionKind, values: string[], functionsDir: string): string[] {
  if (kind !== "read" && kind !== "write") return values;
  // Deno would resolve relative paths against the host's working directory.
  return values.map((path) => isAbsolute(path) ? path : resolve(functionsDir, path));
}
