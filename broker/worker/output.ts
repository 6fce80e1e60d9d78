/**
 * The worker's check of a job's output before it posts it: plain JSON only (plain
 * objects, arrays, strings, finite numbers, booleans, null; a `Date` becomes its ISO
 * string, an `undefined` value is left out as JSON does), no getters, no deeper than
 * the cap, no larger than the cap. It copies as it checks, so the text posted is
 * exactly what was checked (a Proxy or getter cannot answer differently twice), and
 * the text is the size. Every built-in it uses is taken when the entry loads, before
 * user code could replace it.
 *
 * @module
 */
import { ErrorName } from "../../core/errors.ts";
import type { JsonObject, JsonValue } from "../../core/types.ts";
import type { WorkerLimits } from "../messages/worker.ts";

const stringify = JSON.stringify;
const isArray = Array.isArray;
const isFinite = Number.isFinite;
const keys = Object.keys;
const protoOf = Object.getPrototypeOf;
const descriptor = Object.getOwnPropertyDescriptor;
const ObjectProto = Object.prototype;
const DateProto = Date.prototype;
const toISO = Function.prototype.call.bind(Date.prototype.toISOString) as (d: Date) => string;

/** An output that is not plain JSON, or too deep or large: retrying will not fix it. */
export class InvalidOutputError extends TypeError {
  override name: string = ErrorName.InvalidOutput;
  readonly retryable = false;
}

/** The checked copy of `output`, and its JSON text. @throws {InvalidOutputError} */
export function outputJson(
  fn: string,
  output: unknown,
  limits: WorkerLimits,
): { output: JsonObject; json: string } {
  if (typeof output !== "object" || output === null || isArray(output)) {
    throw new InvalidOutputError(
      `Function "${fn}" returned ${kind(output)} instead of a JSON object`,
    );
  }
  const proto = protoOf(output);
  if (proto !== ObjectProto && proto !== null) {
    throw new InvalidOutputError(
      `Function "${fn}" returned ${nameOf(proto)} instead of a JSON object`,
    );
  }
  const copy = copyJson(fn, output, limits.maxOutputDepth, "output") as JsonObject;
  const json = stringify(copy);
  if (json.length > limits.maxOutputChars) {
    throw new InvalidOutputError(
      `Function "${fn}" returned ${json.length} characters of JSON, over the limit of ${limits.maxOutputChars}`,
    );
  }
  return { output: copy, json };
}

/** A plain-JSON copy of `value`. @throws {InvalidOutputError} naming the path. */
export function copyJson(fn: string, value: unknown, depth: number, path: string): JsonValue {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (isFinite(value)) return value;
      return refuse(fn, path, String(value));
    case "object":
      break;
    default:
      return refuse(fn, path, kind(value));
  }
  if (value === null) return null;
  if (depth <= 0) {
    throw new InvalidOutputError(
      `Function "${fn}" returned an output nested deeper than the limit (at ${path})`,
    );
  }
  if (isArray(value)) {
    const out: JsonValue[] = [];
    for (let at = 0; at < value.length; at++) {
      const item = value[at];
      out[at] = item === undefined ? null : copyJson(fn, item, depth - 1, `${path}[${at}]`);
    }
    return out;
  }
  const proto = protoOf(value);
  if (proto === DateProto) return toISO(value as Date);
  if (proto !== ObjectProto && proto !== null) return refuse(fn, path, nameOf(proto));
  const out: JsonObject = {};
  const names = keys(value);
  for (let at = 0; at < names.length; at++) {
    const key = names[at]!;
    const d = descriptor(value, key)!;
    if (d.get || d.set) return refuse(fn, `${path}.${key}`, "a getter");
    if (d.value === undefined) continue;
    out[key] = copyJson(fn, d.value, depth - 1, `${path}.${key}`);
  }
  return out;
}

function refuse(fn: string, path: string, what: string): never {
  throw new InvalidOutputError(`Function "${fn}" returned ${what} at ${path}, which is not JSON`);
}

function nameOf(proto: unknown): string {
  const name = (proto as { constructor?: { name?: unknown } })?.constructor?.name;
  return typeof name === "string" && name !== "" ? `a ${name}` : "an object";
}

/** `a string`, `an array`, `null`, ... */
export function kind(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (isArray(value)) return "an array";
  return /^[aeiou]/.test(typeof value) ? `an ${typeof value}` : `a ${typeof value}`;
}
