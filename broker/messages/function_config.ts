/**
 * Validation of a function module's `config` export. Pure: the Web Worker that
 * loads a module runs it, and the broker runs it again on what the worker sent.
 *
 * @module
 */
import type { FunctionConfig, FunctionPermissions, Isolation } from "../../core/types.ts";
import { LIMIT_KEYS, validateLimits } from "./limits_config.ts";

/** A function module's config as the broker reads it. */
export type ModuleConfig = FunctionConfig;

const ISOLATIONS: readonly string[] = ["worker", "job"];

/** A config with its invalid parts left out, and what was wrong. */
export interface ConfigCheck {
  config: ModuleConfig;
  /** One sentence per problem; empty when the config is valid. */
  problems: string[];
}

/** Permission kinds a function may ask for. `run`, `ffi` and `sys` would escape the sandbox. */
export const PERMISSION_KINDS = ["net", "read", "write", "env"] as const;

/** One of {@linkcode PERMISSION_KINDS}. */
export type PermissionKind = typeof PERMISSION_KINDS[number];

const CONFIG_KEYS: readonly string[] = [
  "requires",
  "permissions",
  "timeoutMs",
  "retries",
  "isolation",
  ...LIMIT_KEYS,
];
const NEVER_GRANTED = ["run", "ffi", "sys", "import", "hrtime"];
/** One day: longer is surely a unit mistake. */
const MAX_TIMEOUT_MS = 86_400_000;
const MAX_RETRIES = 100;

// Entries end up in the `--allow-*` flags of a worker host, where a comma would split
// one entry in two and a bad one would stop the host (and every function) from starting.
const ENTRY_RULES: Record<PermissionKind, { valid: (entry: string) => boolean; what: string }> = {
  net: { valid: isHost, what: "hosts (host or host:port)" },
  read: { valid: (entry) => /^[^,\0]+$/.test(entry), what: "paths" },
  write: { valid: (entry) => /^[^,\0]+$/.test(entry), what: "paths" },
  env: {
    valid: (entry) => /^[A-Za-z_][A-Za-z0-9_]*\*?$/.test(entry),
    what: "environment variable names",
  },
};

function isHost(entry: string): boolean {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.\-_*]*)(?::(\d{1,5}))?$/.exec(entry);
  return match !== null && (match[2] === undefined || Number(match[2]) <= 65_535);
}

/**
 * Checks a module's `config` export: unknown keys and wrong types are problems.
 * `undefined` (no export) is a valid, empty config.
 */
export function validateConfig(value: unknown): ConfigCheck {
  const problems: string[] = [];
  const config: ModuleConfig = {};
  if (value === undefined) return { config, problems };
  if (!isPlainObject(value)) {
    return { config, problems: [`"config" must be an object, got ${show(value)}`] };
  }
  for (const key of Object.keys(value)) {
    if (!CONFIG_KEYS.includes(key)) problems.push(`Unknown config key "${key}"`);
  }
  const { requires, permissions, timeoutMs, retries, isolation } = value;
  if (isolation !== undefined) {
    if (typeof isolation === "string" && ISOLATIONS.includes(isolation)) {
      config.isolation = isolation as Isolation;
    } else {
      problems.push(`"config.isolation" must be "worker" or "job", got ${show(isolation)}`);
    }
  }
  if (requires !== undefined) {
    if (Array.isArray(requires) && requires.every((item) => typeof item === "string")) {
      config.requires = [...requires];
    } else {
      problems.push(`"config.requires" must be a list of strings, got ${show(requires)}`);
    }
  }
  if (permissions !== undefined) {
    const checked = validatePermissions(permissions, problems);
    if (checked) config.permissions = checked;
  }
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs === "number" && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS) {
      config.timeoutMs = timeoutMs;
    } else {
      problems.push(
        `"config.timeoutMs" must be a number of ms above 0 and at most ${MAX_TIMEOUT_MS}, got ${
          show(timeoutMs)
        }`,
      );
    }
  }
  if (retries !== undefined) {
    if (
      Number.isInteger(retries) && (retries as number) >= 0 && (retries as number) <= MAX_RETRIES
    ) {
      config.retries = retries as number;
    } else {
      problems.push(
        `"config.retries" must be a whole number from 0 to ${MAX_RETRIES}, got ${show(retries)}`,
      );
    }
  }
  validateLimits(value, config, problems);
  return { config, problems };
}

function validatePermissions(
  value: unknown,
  problems: string[],
): FunctionPermissions | undefined {
  if (!isPlainObject(value)) {
    problems.push(`"config.permissions" must be an object, got ${show(value)}`);
    return undefined;
  }
  const permissions: FunctionPermissions = {};
  for (const [key, entry] of Object.entries(value)) {
    if (NEVER_GRANTED.includes(key)) {
      problems.push(`Permission "${key}" is never granted to functions`);
      continue;
    }
    if (!(PERMISSION_KINDS as readonly string[]).includes(key)) {
      problems.push(`Unknown permission "${key}": use net, read, write or env`);
      continue;
    }
    const kind = key as PermissionKind;
    const rule = ENTRY_RULES[kind];
    if (typeof entry === "boolean") {
      permissions[kind] = entry;
    } else if (Array.isArray(entry) && entry.every((item) => typeof item === "string")) {
      const bad = entry.filter((item) => !rule.valid(item));
      if (bad.length > 0) {
        problems.push(
          `"config.permissions.${kind}" must list ${rule.what}, got ${bad.map(show).join(", ")}`,
        );
      } else {
        permissions[kind] = [...entry];
      }
    } else {
      problems.push(
        `"config.permissions.${kind}" must be true, false or a list of ${rule.what}, got ${
          show(entry)
        }`,
      );
    }
  }
  return permissions;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  // Module namespace objects and `Object.create(null)` have a null prototype.
  return proto === Object.prototype || proto === null;
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (value === null || typeof value !== "object") return String(value);
  return "an object";
}
