/**
 * Field readers for parsing untrusted messages: each returns the field with its
 * type, or throws a `TypeError` naming it.
 *
 * @module
 */
import type { JsonObject } from "../../core/types.ts";

/** An object whose fields are still unchecked. */
export type Fields = Record<string, unknown>;

// Captured when this module loads, before any user code: a Web Worker parses its
// host's requests beside user code, which may replace these globals to see what
// they are called with (other jobs' requests).
const isArray = Array.isArray;
const isFinite = Number.isFinite;
const hasOwn = Object.hasOwn;

/**
 * An optional field: only an own one. Reading an absent key would ask the
 * prototype, where user code may have put a getter that sees the whole message.
 */
export function opt(m: Fields, key: string): unknown {
  return hasOwn(m, key) ? m[key] : undefined;
}

export function record(value: unknown, what: string): Fields {
  if (typeof value !== "object" || value === null || isArray(value)) {
    throw new TypeError(`Expected ${what} to be an object`);
  }
  return value as Fields;
}

/** A JSON object: values that crossed a hop as JSON or by structured clone of JSON. */
export function object(value: unknown, what: string): JsonObject {
  return record(value, what) as JsonObject;
}

export function str(m: Fields, key: string): string {
  const value = m[key];
  if (typeof value !== "string") throw new TypeError(`Expected "${key}" to be a string`);
  return value;
}

export function num(m: Fields, key: string): number {
  const value = m[key];
  if (typeof value !== "number" || !isFinite(value)) {
    throw new TypeError(`Expected "${key}" to be a number`);
  }
  return value;
}

export function bool(m: Fields, key: string): boolean {
  const value = m[key];
  if (typeof value !== "boolean") throw new TypeError(`Expected "${key}" to be a boolean`);
  return value;
}

export function strings(m: Fields, key: string): string[] {
  const value = m[key];
  if (!isArray(value)) throw new TypeError(`Expected "${key}" to be a list of strings`);
  // An indexed loop: `every` would be looked up on a prototype user code can patch.
  for (let at = 0; at < value.length; at++) {
    if (typeof value[at] !== "string") {
      throw new TypeError(`Expected "${key}" to be a list of strings`);
    }
  }
  return value as string[];
}
