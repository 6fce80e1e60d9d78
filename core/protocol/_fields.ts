/**
 * Small readers that turn the fields of a parsed JSON message into typed values, or
 * throw a {@linkcode FieldError} naming the field. Each reader takes the raw value
 * (`undefined` when the field is missing); `need` and `maybe` read a field of an
 * object and put its name in the path of any error, so nested readers name the
 * whole path (`plan.run[0].jobId`) without building a string unless one fails.
 *
 * @module
 */
import type { JsonObject } from "../types.ts";
import { PROTOCOL_LIMITS } from "./messages.ts";

/** A field is missing or has the wrong type; `path` names it from the message's top. */
export class FieldError extends Error {
  /** The field's path, e.g. `broker.pid` or `functions[2].config.retries`. */
  path = "";
  /** What the field must be, e.g. `a non-empty string`. */
  readonly expected: string;
  constructor(expected: string) {
    super(`must be ${expected}`);
    this.expected = expected;
  }
}

/** Puts `key` (a field name or a list index) in front of the path of a {@linkcode FieldError}. */
export function inField(error: unknown, key: string | number): unknown {
  if (error instanceof FieldError) {
    const head = typeof key === "number" ? `[${key}]` : key;
    const glue = error.path === "" || error.path.startsWith("[") ? "" : ".";
    error.path = head + glue + error.path;
  }
  return error;
}

/** A JSON object: what a message and most of its fields are. */
export type Fields = Record<string, unknown>;

/** Whether `value` is a JSON object (not null, not a list). */
export function isFields(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a required field. */
export function need<T>(fields: Fields, key: string, read: (value: unknown) => T): T {
  try {
    return read(fields[key]);
  } catch (error) {
    throw inField(error, key);
  }
}

/** Reads an optional field: `undefined` when it is missing (or `null`). */
export function maybe<T>(fields: Fields, key: string, read: (value: unknown) => T): T | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  try {
    return read(value);
  } catch (error) {
    throw inField(error, key);
  }
}

/** Reads every entry of a list, of at most `max` entries. */
export function list<T>(value: unknown, read: (value: unknown) => T, max = Infinity): T[] {
  if (!Array.isArray(value)) throw new FieldError("a list");
  if (value.length > max) throw new FieldError(`a list of at most ${max} entries`);
  const out = new Array<T>(value.length);
  for (let i = 0; i < value.length; i++) {
    try {
      out[i] = read(value[i]);
    } catch (error) {
      throw inField(error, i);
    }
  }
  return out;
}

/** An object. */
export function fields(value: unknown): Fields {
  if (!isFields(value)) throw new FieldError("an object");
  return value;
}

/**
 * A JSON object taken as it is. Its values came from `JSON.parse`, so they are JSON
 * already: walking them again would cost the hot path (inputs, outputs, documents)
 * for nothing.
 */
export function jsonObject(value: unknown): JsonObject {
  if (!isJsonObject(value)) throw new FieldError("a JSON object");
  return value;
}

function isJsonObject(value: unknown): value is JsonObject {
  return isFields(value);
}

const ID_EXPECTED = `a non-empty string of at most ${PROTOCOL_LIMITS.maxIdLength} characters`;

/** A non-empty string of at most `PROTOCOL_LIMITS.maxIdLength` characters: ids and names. */
export function id(value: unknown): string {
  if (
    typeof value !== "string" || value.length === 0 || value.length > PROTOCOL_LIMITS.maxIdLength
  ) {
    throw new FieldError(ID_EXPECTED);
  }
  return value;
}

/**
 * `text` cut to `max` characters, with a marker that says how many were cut: an
 * error's text is kept (it tells what went wrong), but not all of it.
 */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}... [${text.length - max} more characters cut]`;
}

/** Any string, empty too: messages, stacks. */
export function text(value: unknown): string {
  if (typeof value !== "string") throw new FieldError("a string");
  return value;
}

/** A whole number of 0 or more: attempts, counts, pids, epoch ms. */
export function count(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new FieldError("a whole number of 0 or more");
  }
  return value;
}

/** A finite number of 0 or more: durations, loads, sizes. */
export function amount(value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new FieldError("a number of 0 or more");
  }
  return value;
}

/** A boolean. */
export function flag(value: unknown): boolean {
  if (typeof value !== "boolean") throw new FieldError("true or false");
  return value;
}

/** A list of strings. */
export function strings(value: unknown): string[] {
  return list(value, text);
}

/** A reader of one of the given strings. */
export function oneOf<const T extends string>(choices: readonly T[]): (value: unknown) => T {
  const expected = `one of ${choices.map((choice) => `"${choice}"`).join(", ")}`;
  return (value) => {
    for (const choice of choices) if (value === choice) return choice;
    throw new FieldError(expected);
  };
}
