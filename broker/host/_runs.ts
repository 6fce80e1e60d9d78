/**
 * The runs a host has handed to one Web Worker and not had answered, and what the
 * worker's death means for each of them.
 *
 * @module
 */
import type { ErrorData, JsonObject } from "../../core/types.ts";
import { jobSkipped } from "../messages/errors.ts";

/**
 * How a job ended inside the worker. `notStarted`: the worker died before it began,
 * so it may simply run again. `startedAt` (`performance.now()` of whoever reports it):
 * when it began, after the jobs queued before it.
 */
export type RunResult =
  | { ok: true; output: JsonObject; startedAt?: number }
  | { ok: false; error: ErrorData; notStarted?: true; startedAt?: number };

/** A run handed to the worker, not answered yet. */
export interface QueuedRun {
  readonly id: number;
  readonly logId: number;
  readonly timeoutMs: number;
  readonly jobId: string;
  readonly resolve: (result: RunResult) => void;
  /** Log text it wrote so far (checked again here: the worker ran user code). */
  logChars: number;
  /** Why it is being stopped (timeout or cancel), once it is. */
  stop?: ErrorData;
  /** When it overruns (or, stopped, its grace ends): `performance.now()` ms, once it is the head. */
  deadline?: number;
  /** The follower the worker starts when this one succeeds. */
  next?: QueuedRun;
  /** Whether it is a follower: it begins only if the one before it succeeds. */
  follows?: true;
}

/**
 * Each queued run's result when its worker died of `error`, in order: the head
 * failed with it; one stopped (timeout, cancel) with why it was stopped; a follower
 * comes back with the run before it if that one did not start, and is skipped if
 * that one failed; the rest never began, so they may simply run again.
 */
export function deathResults(runs: Iterable<QueuedRun>, error: ErrorData): RunResult[] {
  const results: RunResult[] = [];
  let before: RunResult | undefined;
  for (const queued of runs) {
    let result: RunResult;
    if (queued.follows && before && !before.ok) {
      result = before.notStarted
        ? { ok: false, error, notStarted: true }
        : { ok: false, error: jobSkipped(queued.jobId) };
    } else if (queued.stop) result = { ok: false, error: queued.stop };
    else if (before === undefined) result = { ok: false, error };
    else result = { ok: false, error, notStarted: true };
    results.push(result);
    before = result;
  }
  return results;
}
