/**
 * The flow-control fields of a function's `config`: `concurrency`,
 * `concurrencyKey` and `rateLimit`. Pure, as the rest of the config's checks; the
 * Router enforces them across the cluster.
 *
 * @module
 */
import type { FunctionConfig, RateLimit } from "../../core/types.ts";

/** The config keys this module checks. */
export const LIMIT_KEYS = ["concurrency", "concurrencyKey", "rateLimit"] as const;

/** More at once than any cluster has slots is surely a mistake. */
export const MAX_CONCURRENCY = 100_000;
/** Starts per window, at most. */
export const MAX_RATE = 100_000;
/** One day: a longer window is surely a unit mistake. */
export const MAX_RATE_WINDOW_MS = 86_400_000;
/** Characters of a `concurrencyKey`, at most (a document key). */
export const MAX_KEY_LENGTH = 200;

/** Checks the flow-control fields of `value` into `config`, pushing one line per problem. */
export function validateLimits(
  value: Record<string, unknown>,
  config: FunctionConfig,
  problems: string[],
): void {
  const { concurrency, concurrencyKey, rateLimit } = value;
  if (concurrency !== undefined) {
    if (wholeIn(concurrency, 1, MAX_CONCURRENCY)) config.concurrency = concurrency;
    else {
      problems.push(
        `"config.concurrency" must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${
          show(concurrency)
        }`,
      );
    }
  }
  if (concurrencyKey !== undefined) {
    if (
      typeof concurrencyKey !== "string" || concurrencyKey.length === 0 ||
      concurrencyKey.length > MAX_KEY_LENGTH
    ) {
      problems.push(
        `"config.concurrencyKey" must be a document key of 1 to ${MAX_KEY_LENGTH} characters, got ${
          show(concurrencyKey)
        }`,
      );
    } else if (concurrency === undefined) {
      problems.push(`"config.concurrencyKey" needs "config.concurrency", the limit per key`);
    } else config.concurrencyKey = concurrencyKey;
  }
  if (rateLimit !== undefined) {
    const checked = checkRate(rateLimit, problems);
    if (checked) config.rateLimit = checked;
  }
}

function checkRate(value: unknown, problems: string[]): RateLimit | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push(`"config.rateLimit" must be an object { max, perMs }, got ${show(value)}`);
    return undefined;
  }
  const fields = value as Record<string, unknown>;
  const before = problems.length;
  for (const key of Object.keys(fields)) {
    if (key !== "max" && key !== "perMs") {
      problems.push(`Unknown key "${key}" in "config.rateLimit": use max and perMs`);
    }
  }
  const { max, perMs } = fields;
  if (!wholeIn(max, 1, MAX_RATE)) {
    problems.push(
      `"config.rateLimit.max" must be a whole number from 1 to ${MAX_RATE}, got ${show(max)}`,
    );
  }
  if (!wholeIn(perMs, 1, MAX_RATE_WINDOW_MS)) {
    problems.push(
      `"config.rateLimit.perMs" must be a whole number of ms from 1 to ${MAX_RATE_WINDOW_MS}, got ${
        show(perMs)
      }`,
    );
  }
  return problems.length === before ? { max: max as number, perMs: perMs as number } : undefined;
}

function wholeIn(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (value === null || typeof value !== "object") return String(value);
  return "an object";
}
