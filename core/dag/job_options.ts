/**
 * Reading one entry of a pipeline's `jobs` map: a function name, or an object of
 * {@linkcode JobOptions} (`map`, `when`, `wait`), every problem listed.
 *
 * @module
 */
import type { JobOptions } from "../types.ts";
import { conditionProblems } from "./condition.ts";
import { describe, quote } from "./_data.ts";

/** Caps on job options. */
export const OPTION_LIMITS = {
  /** `mapConcurrency`, at most. */
  maxMapConcurrency: 10_000,
  /** A `wait` job's `timeoutMs`, at most: 30 days. */
  maxWaitMs: 30 * 24 * 3600 * 1000,
} as const;

/** Signal names: they travel in URL paths (`/pipelines/:id/signals/<name>`). */
export const SIGNAL_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

const KNOWN = new Set(["fn", "map", "mapConcurrency", "when", "wait", "timeoutMs"]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const isWhole = (v: unknown, min: number, max: number): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

/**
 * The function and options of job `id` from its `jobs` entry, with its problems
 * pushed to `problems`. A plain name gives no options.
 */
export function readJobEntry(
  id: string,
  entry: unknown,
  maxIdLength: number,
  problems: string[],
): { fn?: string; options?: JobOptions; waits?: boolean } {
  const name = (fn: unknown): string | undefined => {
    if (typeof fn !== "string" || fn.length === 0) {
      problems.push(`Field "jobs" must give job ${quote(id)} a function name`);
    } else if (fn.length > maxIdLength) {
      problems.push(
        `Function name ${quote(`${fn.slice(0, 40)}...`)} is longer than ${maxIdLength} characters`,
      );
    } else return fn;
    return undefined;
  };
  if (!isObject(entry)) {
    const fn = name(entry);
    return fn === undefined ? {} : { fn };
  }
  const o = entry;
  const job = `Job ${quote(id)}`;
  const options: JobOptions = {};
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) problems.push(`${job} has an unknown option ${quote(key)}`);
  }
  let fn: string | undefined;
  if (o.fn !== undefined) {
    fn = name(o.fn);
    if (fn !== undefined) options.fn = fn;
  }
  if (o.wait !== undefined) {
    if (typeof o.wait !== "string" || !SIGNAL_NAME.test(o.wait)) {
      problems.push(
        `${job}'s "wait" must be a signal name of 1 to 100 letters, digits or "_.:-", got ${
          describe(o.wait)
        }`,
      );
    } else options.wait = o.wait;
    if (o.fn !== undefined) problems.push(`${job} waits for a signal and runs no "fn"`);
    if (o.map !== undefined) problems.push(`${job} waits for a signal and cannot "map"`);
  }
  if (o.timeoutMs !== undefined) {
    if (o.wait === undefined) problems.push(`${job}'s "timeoutMs" applies only to a "wait" job`);
    else if (!isWhole(o.timeoutMs, 1, OPTION_LIMITS.maxWaitMs)) {
      problems.push(
        `${job}'s "timeoutMs" must be a whole number of ms from 1 to ${OPTION_LIMITS.maxWaitMs}`,
      );
    } else options.timeoutMs = o.timeoutMs;
  }
  if (o.map !== undefined) {
    if (typeof o.map !== "string" || o.map.length === 0 || o.map.length > maxIdLength) {
      problems.push(
        `${job}'s "map" must be a document key of 1 to ${maxIdLength} characters, got ${
          describe(o.map)
        }`,
      );
    } else options.map = o.map;
  }
  if (o.mapConcurrency !== undefined) {
    if (o.map === undefined) problems.push(`${job}'s "mapConcurrency" applies only with "map"`);
    else if (!isWhole(o.mapConcurrency, 1, OPTION_LIMITS.maxMapConcurrency)) {
      problems.push(
        `${job}'s "mapConcurrency" must be a whole number from 1 to ${OPTION_LIMITS.maxMapConcurrency}`,
      );
    } else options.mapConcurrency = o.mapConcurrency;
  }
  if (o.when !== undefined) {
    const found = conditionProblems(o.when, `${job}'s "when"`);
    if (found.length > 0) problems.push(...found);
    else options.when = o.when as JobOptions["when"];
  }
  // A wait, even one with a bad name, runs no function: none is looked for.
  if (o.wait !== undefined) return { options, waits: true };
  return fn === undefined ? { options } : { fn, options };
}
