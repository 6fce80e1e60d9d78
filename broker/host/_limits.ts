/**
 * The time and cancel limits of a request to a sandboxed Web Worker, and the error
 * of a run that overran.
 *
 * @module
 */
import { JobTimeoutError, toErrorData } from "../../core/errors.ts";
import type { ErrorData } from "../../core/types.ts";

/** What stops a request: its time runs out, or `cancel` fires. */
export interface Limits {
  timeoutMs: number;
  timeoutError: ErrorData;
  cancel: AbortSignal;
  cancelError: ErrorData;
}

/** Waits for `reply`; returns the error to stop with if the time runs out or `cancel` fires first. */
export async function settle(
  reply: Promise<unknown>,
  limits: Limits,
): Promise<ErrorData | undefined> {
  if (limits.cancel.aborted) return limits.cancelError;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<ErrorData>((resolve) => {
    timer = setTimeout(() => resolve(limits.timeoutError), limits.timeoutMs);
    onAbort = () => resolve(limits.cancelError);
    limits.cancel.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([reply.then(() => undefined), stopped]);
  } finally {
    clearTimeout(timer);
    if (onAbort) limits.cancel.removeEventListener("abort", onAbort);
  }
}

/**
 * The error of a run that overran. Made only when it happens: an Error's stack costs
 * far more than a trivial job.
 */
export function timeoutError(run: { jobId: string; timeoutMs: number }): ErrorData {
  return withoutStack(toErrorData(new JobTimeoutError(run.jobId, run.timeoutMs), true));
}

/** Where the host noticed the overrun says nothing about the function. */
function withoutStack({ stack: _, ...error }: ErrorData): ErrorData {
  return error;
}
