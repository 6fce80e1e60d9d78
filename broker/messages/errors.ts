/**
 * The sandbox's own failures, as {@linkcode ErrorData} ready to cross process
 * boundaries. Compare them by `name`:
 *
 * - `FunctionNotFoundError`: the broker has no such function (retryable: another may);
 * - `FunctionLoadError`: the module has no default export or an invalid config;
 * - `JobTimeoutError` (see `core/errors.ts`), `JobCancelledError`;
 * - `OutOfMemoryError`: the job's host ran out of heap and died;
 * - `WorkerCrashedError`: a worker or its host died for another reason.
 *
 * @module
 */
import { ErrorName } from "../../core/errors.ts";
import type { ErrorData } from "../../core/types.ts";

const OOM_PATTERN = /out of memory|heap limit/i;

/** A function the broker does not know. */
export function functionNotFound(fn: string): ErrorData {
  return {
    name: ErrorName.FunctionNotFound,
    message: `Function "${fn}" is not known to this broker`,
    retryable: true,
  };
}

/** A module that loaded but cannot run. */
export function functionLoadError(message: string): ErrorData {
  return { name: ErrorName.FunctionLoad, message, retryable: false };
}

/** A job cancelled on request. */
export function jobCancelled(jobId: string): ErrorData {
  return {
    name: ErrorName.JobCancelled,
    message: `Job "${jobId}" was cancelled`,
    retryable: false,
  };
}

/** A follower whose predecessor did not succeed: it never began. */
export function jobSkipped(jobId: string): ErrorData {
  return {
    name: ErrorName.JobSkipped,
    message: `Job "${jobId}" did not run: the job before it did not succeed`,
    retryable: false,
  };
}

/** A worker or host that died or misbehaved. */
export function workerCrashed(message: string): ErrorData {
  return { name: ErrorName.WorkerCrashed, message, retryable: true, crashed: true };
}

/** What a worker host's death means for the job it was running. */
export interface HostDeath {
  /** The function that was running; undefined when none was known to. */
  fn?: string;
  /** The job had been cancelled (and its host killed for not answering). */
  cancelled: boolean;
  /** The broker was stopping the host. */
  stopping: boolean;
  status: Deno.CommandStatus;
  /** The end of the host's stderr. */
  stderr: string;
  /** Set when the host was killed for writing a corrupt frame. */
  malformed?: string;
  heapMb: number;
  /** The functions of the jobs that ran beside it in other slots of the same host. */
  beside?: string[];
}

/** Turns a worker host's death into the error of the job it was running. */
export function hostDeathError(death: HostDeath): ErrorData {
  const { status, stderr } = death;
  const fn = death.fn ?? "(none)";
  /** What ran, for a message: "while function "x" ran", or nothing when no job ran. */
  const during = death.fn === undefined ? "" : ` while function "${death.fn}" ran`;
  if (death.cancelled) {
    return {
      name: ErrorName.JobCancelled,
      message: `Function "${fn}" was cancelled`,
      retryable: false,
    };
  }
  if (death.stopping) {
    return {
      name: ErrorName.JobCancelled,
      message: `Worker host stopped while function "${fn}" ran`,
      retryable: true,
    };
  }
  if (death.malformed) {
    return workerCrashed(
      `Worker host sent a malformed frame${during}: ${death.malformed}`,
    );
  }
  if (OOM_PATTERN.test(stderr)) {
    const others = death.beside?.map((name) => `"${name}"`).join(", ");
    return {
      name: ErrorName.OutOfMemory,
      message: death.fn === undefined
        ? `Worker host ran out of memory (heap limit ${death.heapMb} MiB)`
        : others
        ? `Function "${fn}", or ${others} beside it in its worker host, ran out of memory (heap limit ${death.heapMb} MiB)`
        : `Function "${fn}" ran out of memory (heap limit ${death.heapMb} MiB)`,
      // The heap may have been filled by another (idle) worker of the host; a retry gets a fresh one.
      retryable: true,
      crashed: true,
    };
  }
  const how = status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
  const last = lastLines(stderr);
  return workerCrashed(
    `Worker host crashed (${how})${during}${last ? `: ${last}` : ""}`,
  );
}

/** The last lines of a process's output, on one line. */
export function lastLines(text: string, count = 3): string {
  return text.trim().split("\n").slice(-count).join(" | ");
}
