/**
 * Field readers for parsing untrusted messages: each returns the field with its
 * type, or throws a `TypeError` naming it.
 *
 * @module
 */
import type { JsonObject } from "../../core/types.ts";

/** An object whose fields are still unchecked. */
export type Fields = Record<string, unknown>;

export function record(value: unknown, what: string): Fields {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
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
  if (typeof value !== "number" || !Number.isFinite(value)) {
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
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw new TypeError(`Expected "${key}" to be a list of strings`);
  }
  return value;
}
