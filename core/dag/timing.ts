/**
 * When and in which order a pipeline's jobs may start: its `priority` (0 to 9) and
 * its `delayMs` or `runAt`. Checked with the rest of the spec (every problem at
 * once), and read by the Router's scheduler. Pure.
 *
 * @module
 */
import { describe } from "./_data.ts";

/** The highest priority. */
export const MAX_PRIORITY = 9;
/** A delay longer than a year is surely a unit mistake. */
export const MAX_DELAY_MS = 366 * 86_400_000;

// A date and time with its offset: a local time without one would mean a different
// instant on every machine.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Pushes one line per problem with the spec's `priority`, `delayMs` and `runAt`. */
export function timingProblems(spec: Record<string, unknown>, problems: string[]): void {
  const { priority, delayMs, runAt } = spec;
  if (
    priority !== undefined &&
    !(Number.isInteger(priority) && (priority as number) >= 0 &&
      (priority as number) <= MAX_PRIORITY)
  ) {
    problems.push(
      `Field "priority" must be a whole number from 0 to ${MAX_PRIORITY}, got ${
        describe(priority)
      }`,
    );
  }
  if (
    delayMs !== undefined &&
    !(Number.isInteger(delayMs) && (delayMs as number) >= 0 && (delayMs as number) <= MAX_DELAY_MS)
  ) {
    problems.push(
      `Field "delayMs" must be a whole number of ms from 0 to ${MAX_DELAY_MS}, got ${
        describe(delayMs)
      }`,
    );
  }
  if (runAt !== undefined && epochOf(runAt) === undefined) {
    problems.push(
      `Field "runAt" must be epoch ms or an ISO 8601 date and time with its offset ("2026-12-03T15:00:00Z"), got ${
        describe(runAt)
      }`,
    );
  }
  if (delayMs !== undefined && runAt !== undefined) {
    problems.push('Fields "delayMs" and "runAt" both say when to start: give one');
  }
}

/** Epoch ms of a valid `runAt`, or undefined. */
function epochOf(runAt: unknown): number | undefined {
  if (typeof runAt === "number") {
    return Number.isInteger(runAt) && runAt >= 0 && runAt <= 8.64e15 ? runAt : undefined;
  }
  if (typeof runAt !== "string" || runAt.length > 40 || !ISO_8601.test(runAt)) return undefined;
  const ms = Date.parse(runAt);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Epoch ms before which a valid spec's first jobs do not start, or undefined when
 * it says nothing (they start at once). The same every time for one spec and
 * `createdAt`, so a record read back from the store gets it again.
 */
export function runAtOf(
  spec: { delayMs?: number; runAt?: number | string },
  createdAt: number,
): number | undefined {
  if (spec.delayMs !== undefined) return spec.delayMs > 0 ? createdAt + spec.delayMs : undefined;
  return spec.runAt === undefined ? undefined : epochOf(spec.runAt);
}
