/**
 * Domain errors. Each carries the ids that matter; across boundaries they travel
 * as {@linkcode ErrorData} and are compared by `name`.
 *
 * @module
 */
import type { ErrorData } from "./types.ts";

/** A pipeline is invalid; `problems` lists every problem found, not just the first. */
export class PipelineValidationError extends Error {
  override name = "PipelineValidationError";
  /** Every problem, one sentence each. */
  readonly problems: readonly string[];
  constructor(problems: string[], options?: ErrorOptions) {
    super(`Invalid pipeline: ${problems.join("; ")}`, options);
    this.problems = problems;
  }
}

/** A job ran past its `timeoutMs`. */
export class JobTimeoutError extends Error {
  override name = "JobTimeoutError";
  /** The job that timed out. */
  readonly jobId: string;
  constructor(jobId: string, timeoutMs: number) {
    super(`Job "${jobId}" timed out after ${timeoutMs} ms`);
    this.jobId = jobId;
  }
}

/** Thrown by a function to fail its job at once, without retries. */
export class NonRetryableError extends Error {
  override name = "NonRetryableError";
}

/** Turns anything thrown into {@linkcode ErrorData}. */
export function toErrorData(error: unknown, retryable = true): ErrorData {
  if (error instanceof Error) {
    const marked = (error as { retryable?: unknown }).retryable;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      retryable: error.name === "NonRetryableError"
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
