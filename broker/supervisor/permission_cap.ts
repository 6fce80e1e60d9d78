/**
 * The operator's cap on what functions may ask for (`start-broker --max-permissions`):
 * a function whose config asks for more than the cap is refused (not served), and the
 * reason is its load error. A kind the cap leaves out is denied, as in a config.
 *
 * @module
 */
import { isAbsolute, relative, resolve } from "node:path";
import type { FunctionPermissions } from "../../core/types.ts";
import {
  PERMISSION_KINDS,
  type PermissionKind,
  validateConfig,
} from "../messages/function_config.ts";

/**
 * Parses the cap from its JSON.
 *
 * @throws {TypeError} when it is not JSON or not a valid `permissions` object.
 */
export function parsePermissionCap(json: string): FunctionPermissions {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new TypeError(`--max-permissions is not JSON: ${(error as Error).message}`);
  }
  const { config, problems } = validateConfig({ permissions: value });
  if (problems.length > 0) {
    throw new TypeError(`--max-permissions is not valid: ${problems.join("; ")}`);
  }
  return config.permissions ?? {};
}

/**
 * What `declared` asks for beyond `cap`, one phrase per kind (empty: nothing).
 * Relative paths in both are relative to `functionsDir`.
 */
export function beyondCap(
  declared: FunctionPermissions,
  cap: FunctionPermissions,
  functionsDir: string,
): string[] {
  const over: string[] = [];
  for (const kind of PERMISSION_KINDS) {
    const asked = declared[kind];
    const allowed = cap[kind] ?? false;
    if (asked === undefined || asked === false || allowed === true) continue;
    if (asked === true || allowed === false) {
      over.push(`${kind} ${asked === true ? "(all)" : asked.map(quote).join(", ")}`);
      continue;
    }
    const outside = asked.filter((entry) =>
      !allowed.some((limit) => covers(kind, limit, entry, functionsDir))
    );
    if (outside.length > 0) over.push(`${kind} ${outside.map(quote).join(", ")}`);
  }
  return over;
}

/** The load error's message of a function `name` refused by the cap. */
export function capMessage(name: string, over: string[], cap: FunctionPermissions): string {
  return `Function "${name}" asks for more than this broker allows (--max-permissions ${
    JSON.stringify(cap)
  }): ${over.join("; ")}`;
}

/** Whether the cap entry `limit` allows the requested `entry`, as Deno would read them. */
function covers(kind: PermissionKind, limit: string, entry: string, functionsDir: string): boolean {
  switch (kind) {
    case "net": {
      // `host` allows every port of host; `host:port` only that one.
      if (limit === entry) return true;
      return !/:\d+$/.test(limit) && entry.startsWith(`${limit}:`);
    }
    case "env":
      // `PREFIX*` allows every name that starts with PREFIX (and narrower wildcards).
      if (limit === entry) return true;
      return limit.endsWith("*") && entry.startsWith(limit.slice(0, -1));
    case "read":
    case "write": {
      const from = resolve(functionsDir, limit);
      const to = resolve(functionsDir, entry);
      const path = relative(from, to);
      return path === "" || (path !== ".." && !path.startsWith("../") && !isAbsolute(path));
    }
  }
}

function quote(entry: string): string {
  return JSON.stringify(entry);
}
