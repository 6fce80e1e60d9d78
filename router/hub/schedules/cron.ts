/**
 * Cron expressions through `croner`: five fields (minute first) or six (seconds
 * first), read in an IANA time zone. A schedule asks two things of one: its first
 * tick after a moment, and its latest tick at or before one (the tick owed after a
 * downtime). Both are computed, not iterated, so a long downtime costs nothing.
 *
 * @module
 */
import { Cron } from "croner";

/** A compiled cron expression in its time zone. */
export interface CronTimes {
  /** The first tick strictly after `after` (epoch ms), or undefined when none comes. */
  next(after: number): number | undefined;
  /** The latest tick at or before `at` (epoch ms), or undefined when none came. */
  latest(at: number): number | undefined;
}

/** Longest cron expression taken, characters. */
export const MAX_CRON_LENGTH = 256;
/** Longest time zone name taken, characters. */
export const MAX_TIMEZONE_LENGTH = 64;

/**
 * Compiles `expression` in `timezone`; returns the problems instead when it is not
 * valid (each a sentence), so that a caller can list them with its others.
 */
export function compileCron(expression: string, timezone: string): CronTimes | string[] {
  const problems: string[] = [];
  if (timezone.length === 0 || timezone.length > MAX_TIMEZONE_LENGTH) {
    problems.push(`Field "timezone" must be 1 to ${MAX_TIMEZONE_LENGTH} characters`);
  } else if (!isTimeZone(timezone)) {
    problems.push(`Field "timezone" is not a known IANA time zone: "${timezone}"`);
  }
  if (expression.length > MAX_CRON_LENGTH) {
    problems.push(`Field "cron" is longer than ${MAX_CRON_LENGTH} characters`);
    return problems;
  }
  let cron: Cron;
  try {
    // Only the fields the schedule is read in: no run-once date, no seven fields.
    cron = new Cron(expression, { mode: "5-or-6-parts", ...(problems.length ? {} : { timezone }) });
  } catch (error) {
    problems.push(`Field "cron" is not a valid cron expression: ${reason(error)}`);
    return problems;
  }
  if (cron.getPattern() === undefined) {
    problems.push(`Field "cron" is a date, not a cron expression: "${expression}"`);
  }
  if (problems.length > 0) return problems;
  const times: CronTimes = {
    next(after) {
      return cron.nextRun(new Date(after))?.getTime();
    },
    latest(at) {
      // Runs strictly before the reference, at whole seconds: the next second's start
      // takes in a tick at `at` itself.
      const reference = new Date(Math.floor(at / 1000) * 1000 + 1000);
      return cron.previousRuns(1, reference)[0]?.getTime();
    },
  };
  try {
    if (times.next(Date.now()) === undefined) {
      return [`Field "cron" never comes again: "${expression}"`];
    }
  } catch (error) {
    return [`Field "cron" cannot be computed in "${timezone}": ${reason(error)}`];
  }
  return times;
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** croner's message without its class prefix, cut short. */
function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^CronPattern: /, "").slice(0, 300);
}
