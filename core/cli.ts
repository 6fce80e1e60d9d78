/**
 * Flag parsing for every daemon and tool: `node:util` `parseArgs` (strict, typed)
 * plus generated `--help`, so a later switch to `@std/cli` touches only this file.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** One flag: its type, default and help text. */
export interface FlagSpec {
  /** `string` takes a value; `boolean` is a switch. */
  type: "string" | "boolean";
  /** Printed by `--help`. */
  description: string;
  /** Used when the flag is absent. */
  default?: string | boolean;
  /** One-letter alias. */
  short?: string;
}

/** What a command accepts. */
export interface CommandSpec<F extends Record<string, FlagSpec>> {
  /** Command name in help, e.g. `deno task start-router`. */
  usage: string;
  /** One paragraph on what it does. */
  description: string;
  /** The flags, by long name. */
  flags: F;
  /** Whether positional arguments are allowed. */
  positionals?: string;
}

/** The parsed values of a command's flags, typed from its spec. */
export type FlagValues<F extends Record<string, FlagSpec>> = {
  [K in keyof F]: F[K]["type"] extends "boolean" ? boolean
    : F[K]["default"] extends string ? string
    : string | undefined;
};

/** Parsed command line. */
export type Parsed<F extends Record<string, FlagSpec>> =
  | { help: true; text: string }
  | { help: false; values: FlagValues<F>; positionals: string[] };

/** The `--help` text of a command. */
export function helpText<F extends Record<string, FlagSpec>>(spec: CommandSpec<F>): string {
  const lines = [
    `Usage: ${spec.usage} [options]${spec.positionals ? ` ${spec.positionals}` : ""}`,
    "",
    spec.description,
    "",
    "Options:",
  ];
  const entries = Object.entries(spec.flags);
  entries.push(["help", { type: "boolean", description: "Show this help and exit", short: "h" }]);
  for (const [name, flag] of entries) {
    const left = `  ${flag.short ? `-${flag.short}, ` : "    "}--${name}${
      flag.type === "string" ? " <value>" : ""
    }`;
    const def = flag.default !== undefined && flag.type === "string"
      ? ` (default: ${flag.default})`
      : "";
    lines.push(`${left.padEnd(32)} ${flag.description}${def}`);
  }
  return lines.join("\n");
}

/**
 * Parses `args` against `spec`.
 *
 * @throws {TypeError} for an unknown flag or a missing value, with the help hint.
 */
export function parseCommand<F extends Record<string, FlagSpec>>(
  spec: CommandSpec<F>,
  args: string[],
): Parsed<F> {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, flag] of Object.entries(spec.flags)) {
    options[name] = flag.short ? { type: flag.type, short: flag.short } : { type: flag.type };
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: !!spec.positionals });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new TypeError(`${message}\nRun with --help to see the options`);
  }
  if (parsed.values.help) return { help: true, text: helpText(spec) };
  const values: Record<string, string | boolean | undefined> = {};
  for (const [name, flag] of Object.entries(spec.flags)) {
    const given = parsed.values[name];
    values[name] = given ?? flag.default ?? (flag.type === "boolean" ? false : undefined);
  }
  return { help: false, values: values as FlagValues<F>, positionals: parsed.positionals };
}

/** Parses an integer flag value, with a clear error. */
export function intFlag(name: string, value: string, min = 0): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new RangeError(`Flag --${name} wants a whole number >= ${min}, got "${value}"`);
  }
  return n;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration flag such as `500ms`, `30s`, `15m`, `12h` or `7d` into ms. */
export function duration(name: string, value: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) {
    throw new RangeError(
      `Flag --${name} wants a duration like 30s, 15m, 12h or 7d, got "${value}"`,
    );
  }
  return Number(match[1]) * UNITS[match[2]!]!;
}
