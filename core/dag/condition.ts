/**
 * `when` conditions: JSON, never code. Checking one lists every problem (within caps,
 * so a hostile spec cannot make the check costly), and testing one against a job's
 * input walks only the paths it names.
 *
 * ```ts
 * import { conditionHolds } from "./condition.ts";
 * conditionHolds({ all: [{ path: "page.status", op: "eq", value: 200 }] }, { page: { status: 200 } }); // true
 * ```
 *
 * @module
 */
import type { Condition, JsonObject, JsonScalar, JsonValue } from "../types.ts";
import { describe, quote } from "./_data.ts";

/** Caps on one condition. */
export const CONDITION_LIMITS = {
  /** Levels of `all`/`any`/`not` nesting. */
  maxDepth: 16,
  /** Tests and combinators in one condition. */
  maxNodes: 256,
  /** Characters of a `path`. */
  maxPathLength: 200,
  /** Values of an `in` list. */
  maxInValues: 1000,
  /** Characters of a string value. */
  maxStringLength: 1000,
} as const;

const OPS = new Set(["eq", "ne", "gt", "gte", "lt", "lte", "in", "exists"]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * What is wrong with a condition, one sentence each (empty when it is valid).
 *
 * @param where Names it in the sentences, e.g. `Job "fetch"'s "when"`.
 */
export function conditionProblems(value: unknown, where: string): string[] {
  const problems: string[] = [];
  let nodes = 0;
  const check = (node: unknown, at: string, depth: number): void => {
    if (++nodes > CONDITION_LIMITS.maxNodes) {
      if (nodes === CONDITION_LIMITS.maxNodes + 1) {
        problems.push(`${where} has more than ${CONDITION_LIMITS.maxNodes} tests`);
      }
      return;
    }
    if (!isObject(node)) {
      problems.push(`${at} must be a condition object, got ${describe(node)}`);
      return;
    }
    const keys = Object.keys(node);
    const combinator = keys.find((k) => k === "all" || k === "any" || k === "not");
    if (combinator !== undefined) {
      if (keys.length !== 1) {
        problems.push(`${at} must hold only ${quote(combinator)}, got ${describe(keys)}`);
        return;
      }
      if (depth >= CONDITION_LIMITS.maxDepth) {
        problems.push(`${at} is nested deeper than ${CONDITION_LIMITS.maxDepth} levels`);
        return;
      }
      const inner = node[combinator];
      if (combinator === "not") return check(inner, `${at}.not`, depth + 1);
      if (!Array.isArray(inner) || inner.length === 0) {
        problems.push(`${at}.${combinator} must be a non-empty list of conditions`);
        return;
      }
      inner.forEach((child, i) => check(child, `${at}.${combinator}[${i}]`, depth + 1));
      return;
    }
    for (const key of keys) {
      if (key !== "path" && key !== "op" && key !== "value") {
        problems.push(`${at} has an unknown field ${quote(key)}`);
      }
    }
    const { path, op } = node;
    if (
      typeof path !== "string" || path.length === 0 ||
      path.length > CONDITION_LIMITS.maxPathLength || path.split(".").some((part) => part === "")
    ) {
      problems.push(
        `${at}.path must be a dotted path of non-empty keys of at most ${CONDITION_LIMITS.maxPathLength} characters`,
      );
    }
    if (typeof op !== "string" || !OPS.has(op)) {
      problems.push(`${at}.op must be one of ${[...OPS].map(quote).join(", ")}`);
      return;
    }
    const has = Object.hasOwn(node, "value");
    const value = node.value;
    if (op === "exists") {
      if (has) problems.push(`${at} tests "exists" and takes no value`);
    } else if (!has) {
      problems.push(`${at} tests ${quote(op)} and needs a value`);
    } else if (op === "in") {
      if (!Array.isArray(value) || value.length > CONDITION_LIMITS.maxInValues) {
        problems.push(
          `${at}.value must be a list of at most ${CONDITION_LIMITS.maxInValues} JSON scalars`,
        );
      } else if (!value.every(isScalar)) {
        problems.push(`${at}.value must hold only strings, numbers, booleans or null`);
      }
    } else if (!isScalar(value)) {
      problems.push(
        `${at}.value must be a string, number, boolean or null, got ${describe(value)}`,
      );
    } else if (
      (op === "gt" || op === "gte" || op === "lt" || op === "lte") &&
      typeof value !== "number" && typeof value !== "string"
    ) {
      problems.push(`${at} compares with ${quote(op)}: its value must be a number or a string`);
    }
  };
  check(value, where, 0);
  return problems;
}

function isScalar(value: unknown): value is JsonScalar {
  return value === null || typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value)) ||
    (typeof value === "string" && value.length <= CONDITION_LIMITS.maxStringLength);
}

/** Whether `value` is a valid condition (see {@linkcode conditionProblems}). */
export function isCondition(value: unknown): value is Condition {
  return conditionProblems(value, "condition").length === 0;
}

/**
 * The value at a dotted path of `input` (own keys only; a list is indexed by a whole
 * number), or undefined when there is none.
 */
export function valueAt(input: JsonObject, path: string): JsonValue | undefined {
  let at: JsonValue | undefined = input;
  for (const key of path.split(".")) {
    if (Array.isArray(at)) {
      at = /^(0|[1-9]\d*)$/.test(key) ? at[Number(key)] : undefined;
    } else if (typeof at === "object" && at !== null) {
      at = Object.hasOwn(at, key) ? at[key] : undefined;
    } else return undefined;
    if (at === undefined) return undefined;
  }
  return at;
}

/**
 * Whether a valid condition holds on `input`. A missing value equals nothing (so `ne`
 * holds); `gt`, `gte`, `lt` and `lte` hold only between two numbers or two strings.
 */
export function conditionHolds(condition: Condition, input: JsonObject): boolean {
  if ("all" in condition) return condition.all.every((c) => conditionHolds(c, input));
  if ("any" in condition) return condition.any.some((c) => conditionHolds(c, input));
  if ("not" in condition) return !conditionHolds(condition.not, input);
  const actual = valueAt(input, condition.path);
  switch (condition.op) {
    case "exists":
      return actual !== undefined;
    case "eq":
      return actual === condition.value;
    case "ne":
      return actual !== condition.value;
    case "in":
      return actual !== undefined && condition.value.some((v) => v === actual);
    default: {
      const expected = condition.value;
      if (typeof actual === "number" && typeof expected === "number") {
        return compare(condition.op, actual, expected);
      }
      if (typeof actual === "string" && typeof expected === "string") {
        return compare(condition.op, actual, expected);
      }
      return false;
    }
  }
}

function compare<T extends number | string>(op: "gt" | "gte" | "lt" | "lte", a: T, b: T): boolean {
  return op === "gt" ? a > b : op === "gte" ? a >= b : op === "lt" ? a < b : a <= b;
}
