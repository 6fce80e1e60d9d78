/**
 * Attempts, back-off and poison as pure functions of a job's record: what the next
 * attempt's number is, how long a retry waits, whether a failure is retried, and
 * when a job that keeps taking its process down is given up on.
 *
 * @module
 */
import { ErrorName } from "../../../core/errors.ts";
import type { JobOutcome, JobRecord } from "../../../core/protocol/mod.ts";
import type { ErrorData } from "../../../core/types.ts";

/** Lost brokers that weigh as much as one crash toward poison. */
export const LOST_PER_CRASH = 5;
/** Crashes after which a job is poison when the Router is not told otherwise. */
export const DEFAULT_MAX_CRASHES = 3;

/**
 * Whether an error says the attempt's process or Web Worker died. Only the sandbox
 * sets `crashed` (a host for its dead Web Worker, the Router for a host its broker
 * saw die): an error a function threw never counts as a crash, whatever its name. A
 * lost broker is not one either: a job runs in a host process and cannot take its
 * broker down, and a broker holds prefetched jobs that never began.
 */
export function isCrash(error: ErrorData): boolean {
  return error.crashed === true;
}

/** The number of a job's next attempt: never one already run or offered. */
export function nextAttempt(job: Pick<JobRecord, "attempts" | "lastAttempt">): number {
  return Math.max(job.attempts, job.lastAttempt ?? 0) + 1;
}

/**
 * How long a retry after `attempt` waits, ms: `baseMs` doubled per attempt, at most
 * `maxMs`, then ±20 % of jitter (`random` in [0, 1)) so retries of many jobs spread.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: number): number {
  const base = Math.min(baseMs * 2 ** (attempt - 1), maxMs);
  return Math.round(base * (0.8 + random * 0.4));
}

/**
 * Whether a failed attempt runs again: when its error is retryable and `retries`
 * allow it; a crash whatever `retries` says (at-least-once), until it is poison.
 */
export function retried(error: ErrorData, attempts: number, retries: number): boolean {
  return error.retryable && (isCrash(error) || attempts <= retries);
}

/**
 * The error a job fails with as poison, when its attempts crashed their process
 * `maxCrashes` times or lost their broker `maxCrashes * LOST_PER_CRASH` times (a lost
 * broker mostly held the job unstarted, so it counts far less); else undefined.
 */
export function poisonError(
  jobId: string,
  attemptErrors: readonly ErrorData[],
  maxCrashes: number,
): ErrorData | undefined {
  let crashes = 0, lost = 0;
  for (const error of attemptErrors) {
    // A crash of a shared host may have been another job's: its next attempt runs alone.
    if (isCrash(error) && !error.shared) crashes++;
    else if (error.name === ErrorName.BrokerLost) lost++;
  }
  if (crashes < maxCrashes && lost < maxCrashes * LOST_PER_CRASH) return undefined;
  const last = attemptErrors.at(-1);
  const what = crashes >= maxCrashes
    ? `crashed its worker process ${crashes} times`
    : `lost its broker ${lost} times`;
  return {
    name: ErrorName.PoisonJob,
    message: `Job "${jobId}" ${what}; giving up (last: ${last?.name}: ${last?.message})`,
    retryable: false,
  };
}

/** The final outcome on record of a job that ended (succeeded or failed), if it did. */
export function recordedOutcome(job: JobRecord): JobOutcome | undefined {
  const durationMs = job.durationMs ?? 0;
  if (job.status === "succeeded" && job.output) {
    return { ok: true, output: job.output, durationMs };
  }
  if (job.status === "failed" && job.error) return { ok: false, error: job.error, durationMs };
  return undefined;
}

/** How an attempt ended, as `/metrics` counts attempts. */
export type AttemptOutcome =
  | "succeeded"
  | "failed"
  | "timed_out"
  | "crashed"
  | "cancelled"
  | "lost";

/**
 * The outcome of an attempt a broker reported: a crash (its process or Web Worker
 * died) and a timeout apart from other failures; `cancelled` when its pipeline was
 * cancelled while it ran, whatever it reported.
 */
export function attemptOutcome(outcome: JobOutcome, cancelled: boolean): AttemptOutcome {
  if (cancelled) return "cancelled";
  if (outcome.ok) return "succeeded";
  if (isCrash(outcome.error)) return "crashed";
  return outcome.error.name === ErrorName.JobTimeout ? "timed_out" : "failed";
}
