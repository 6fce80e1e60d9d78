/**
 * Domain errors. Each carries the ids that matter; across boundaries they travel
 * as {@linkcode ErrorData} and are compared by `name`.
 *
 * @module
 */
import type { ErrorData } from "./types.ts";

/**
 * The name of every error that crosses a process boundary (a reply, a job's
 * outcome, a record in the store). Both sides spell it from here: the side that
 * makes an error and the side that matches on it, so a rename cannot split them.
 */
export const ErrorName = {
  /** A submitted pipeline is invalid; `problems` lists every problem. */
  PipelineValidation: "PipelineValidationError",
  PipelineNotFound: "PipelineNotFoundError",
  PipelineEnded: "PipelineEndedError",
  /** A retry of a pipeline that has not ended, or that succeeded. */
  PipelineNotRetryable: "PipelineNotRetryableError",
  TooManyPipelines: "TooManyPipelinesError",
  /** No broker serves a function right now, though one did lately: retry. */
  NoBroker: "NoBrokerError",
  PipelineDeadline: "PipelineDeadlineError",
  PipelineFailed: "PipelineFailedError",
  /** A schedule's cron, time zone or pipeline is invalid; `problems` lists every problem. */
  ScheduleValidation: "ScheduleValidationError",
  ScheduleNotFound: "ScheduleNotFoundError",
  /** A create for an id a schedule has already (replace it with a put). */
  ScheduleExists: "ScheduleExistsError",
  TooManySchedules: "TooManySchedulesError",
  /** A function threw it to fail its job at once, without retries. */
  NonRetryable: "NonRetryableError",
  JobTimeout: "JobTimeoutError",
  JobCancelled: "JobCancelledError",
  /** A follower whose predecessor did not succeed: it never began. */
  JobSkipped: "JobSkippedError",
  /** A job crashed its worker host this often: it is not run again. */
  PoisonJob: "PoisonJobError",
  FunctionNotFound: "FunctionNotFoundError",
  FunctionLoad: "FunctionLoadError",
  /** The job's worker host ran out of heap and died. */
  OutOfMemory: "OutOfMemoryError",
  /** A Web Worker or its host died or misbehaved. */
  WorkerCrashed: "WorkerCrashedError",
  BrokerLost: "BrokerLostError",
  /** A function's output (or log fields) is not plain JSON, or is too deep or too large. */
  InvalidOutput: "InvalidOutputError",
  /** A job's input could not be handed to its Web Worker (e.g. nested too deep to copy). */
  InvalidInput: "InvalidInputError",
  /** The sender's key may not send this message (its role), or not from that routing id. */
  Forbidden: "ForbiddenError",
  /** A message could not be parsed. */
  Protocol: "ProtocolError",
  /** A request only a joined peer of another role may make (e.g. `fetch-file`, brokers only). */
  UnknownPeer: "UnknownPeerError",
  /** A `fetch-file` for a hash the Router does not ship. */
  FileNotFound: "FileNotFoundError",
  RequestTimeout: "RequestTimeoutError",
  /** A `wait` job's signal did not come within its `timeoutMs`. */
  SignalTimeout: "SignalTimeoutError",
  /** A signal named no job that waits for it (none of that name, or it is not waiting). */
  JobNotWaiting: "JobNotWaitingError",
  /** A signal's object is not one (not a JSON object, too big or too deep). */
  InvalidSignal: "InvalidSignalError",
  /** A `map` job's input has no list at its key, or one longer than allowed. */
  MapInput: "MapInputError",
  WaitTimeout: "WaitTimeoutError",
  /** This Router is not (or no longer) the active one: it holds no lease on the store. */
  NotActive: "NotActiveError",
} as const;

/** One of {@linkcode ErrorName}'s names. */
export type ErrorName = (typeof ErrorName)[keyof typeof ErrorName];

/** An error as plain data under one of the names above. */
export function errorData(name: ErrorName, message: string, retryable: boolean): ErrorData {
  return { name, message, retryable };
}

/** A pipeline is invalid; `problems` lists every problem found, not just the first. */
export class PipelineValidationError extends Error {
  override name: string = ErrorName.PipelineValidation;
  /** Every problem, one sentence each. */
  readonly problems: readonly string[];
  constructor(problems: string[], options?: ErrorOptions) {
    super(`Invalid pipeline: ${problems.join("; ")}`, options);
    this.problems = problems;
  }
}

/** A schedule is invalid; `problems` lists every problem found, its pipeline's too. */
export class ScheduleValidationError extends Error {
  override name: string = ErrorName.ScheduleValidation;
  /** Every problem, one sentence each. */
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Invalid schedule: ${problems.join("; ")}`);
    this.problems = problems;
  }
}

/** A job ran past its `timeoutMs`. */
export class JobTimeoutError extends Error {
  override name: string = ErrorName.JobTimeout;
  /** The job that timed out. */
  readonly jobId: string;
  constructor(jobId: string, timeoutMs: number) {
    super(`Job "${jobId}" timed out after ${timeoutMs} ms`);
    this.jobId = jobId;
  }
}

/** A `wait` job's signal did not come within its `timeoutMs`. */
export class SignalTimeoutError extends Error {
  override name: string = ErrorName.SignalTimeout;
  /** The job that waited. */
  readonly jobId: string;
  /** The signal it waited for. */
  readonly signal: string;
  constructor(jobId: string, signal: string, timeoutMs: number) {
    super(`Job "${jobId}" got no signal "${signal}" within ${timeoutMs} ms`);
    this.jobId = jobId;
    this.signal = signal;
  }
}

/** The Router lost (or never held) the lease on its PostgreSQL store: it may not act. */
export class NotActiveError extends Error {
  override name: string = ErrorName.NotActive;
}

/** Thrown by a function to fail its job at once, without retries. */
export class NonRetryableError extends Error {
  override name: string = ErrorName.NonRetryable;
}

/** Turns anything thrown into {@linkcode ErrorData}. */
export function toErrorData(error: unknown, retryable = true): ErrorData {
  if (error instanceof Error) {
    const marked = "retryable" in error ? error.retryable : undefined;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      retryable: error.name === ErrorName.NonRetryable
        ? false
        : typeof marked === "boolean"
        ? marked
        : retryable,
    };
  }
  return { name: "Error", message: String(error), retryable };
}

/** Rebuilds an `Error` from {@linkcode ErrorData}, keeping name and stack. */
export function fromErrorData(data: ErrorData): Error {
  const error = new Error(data.message);
  error.name = data.name;
  if (data.stack) error.stack = data.stack;
  return error;
}
