/**
 * `wait` jobs: a job that runs no function and holds no slot, waiting for a signal
 * (`POST /pipelines/:id/signals/<name>`, or the `signal` request) whose object
 * becomes its output. Its state is the job record (`waiting`, `signal`, `waitUntil`),
 * so a wait survives a Router restart; past `waitUntil` the job fails with
 * `SignalTimeoutError`.
 *
 * @module
 */
import { dataProblems, DEFAULT_LIMITS, mergeDocument } from "../../../core/dag/mod.ts";
import { errorData, ErrorName, SignalTimeoutError } from "../../../core/errors.ts";
import type { JobRecord } from "../../../core/protocol/mod.ts";
import type { JsonObject } from "../../../core/types.ts";
import { type Active, type Pipelines, started } from "./context.ts";
import { result } from "./jobs.ts";
import { ServiceError } from "./service_error.ts";

/** Puts a pending `wait` job in wait for `signal`, for `timeoutMs` at most if given. */
export function startWait(
  ctx: Pipelines,
  active: Active,
  job: JobRecord,
  signal: string,
  timeoutMs: number | undefined,
): void {
  started(ctx, active);
  job.status = "waiting";
  job.signal = signal;
  job.startedAt = Date.now();
  if (timeoutMs !== undefined) job.waitUntil = job.startedAt + timeoutMs;
  ctx.store.saveJob(active.record, job);
  armWait(ctx, active, job);
}

/** Fails a waiting job at its `waitUntil`, unless its signal came first (also after a restart). */
export function armWait(ctx: Pipelines, active: Active, job: JobRecord): void {
  const until = job.waitUntil;
  if (until === undefined) return;
  const pipelineId = active.record.id;
  const jobId = job.jobId;
  // Holds ids only: a pipeline that ended is not kept in memory until the timeout.
  ctx.later(Math.max(0, until - Date.now()), () => {
    const current = ctx.active.get(pipelineId);
    const waiting = current?.jobs.get(jobId);
    if (!current || !waiting || waiting.status !== "waiting") return;
    const timeoutMs = until - (waiting.startedAt ?? until);
    const error = new SignalTimeoutError(jobId, waiting.signal ?? "", timeoutMs);
    waiting.status = "failed";
    waiting.error = errorData(ErrorName.SignalTimeout, error.message, false);
    waiting.finishedAt = Date.now();
    waiting.durationMs = waiting.finishedAt - (waiting.startedAt ?? waiting.finishedAt);
    ctx.store.saveJob(current.record, waiting);
    result(ctx, current, waiting, {
      ok: false,
      error: waiting.error,
      durationMs: waiting.durationMs,
    });
  });
}

/** What a delivered signal did. */
export interface SignalResult {
  pipelineId: string;
  signal: string;
  /** The jobs it resumed. */
  jobIds: string[];
}

/**
 * Delivers signal `name` to the jobs of a pipeline waiting for it: `payload` is their
 * output.
 *
 * @param encodedBytes The size of the message `payload` came in, when known.
 * @throws {ServiceError} `PipelineNotFoundError`; `JobNotWaitingError` when no job
 *   waits for it now (none has that signal, it already came, the pipeline ended);
 *   `InvalidSignalError` when `payload` is too big or too deep.
 */
export function deliverSignal(
  ctx: Pipelines,
  pipelineId: string,
  name: string,
  payload: JsonObject,
  encodedBytes?: number,
): SignalResult {
  const active = ctx.active.get(pipelineId);
  if (!active && !ctx.store.get(pipelineId)) {
    throw new ServiceError(ErrorName.PipelineNotFound, `Pipeline "${pipelineId}" not found`);
  }
  const waiting = active ? [...active.jobs.values()].filter((job) => isWaitingFor(job, name)) : [];
  if (!active || waiting.length === 0) {
    throw new ServiceError(
      ErrorName.JobNotWaiting,
      `No job of pipeline "${pipelineId}" is waiting for signal "${name}"`,
    );
  }
  const limits = { ...DEFAULT_LIMITS, ...ctx.options.limits };
  const problems = dataProblems(
    payload,
    { maxBytes: limits.maxDataBytes, maxDepth: limits.maxDataDepth },
    encodedBytes,
    "signal",
  );
  if (problems.length > 0) throw new ServiceError(ErrorName.InvalidSignal, problems.join("; "));
  for (const job of waiting) {
    job.status = "succeeded";
    job.output = payload;
    job.finishedAt = Date.now();
    job.durationMs = job.finishedAt - (job.startedAt ?? job.finishedAt);
    mergeDocument(active.record.document, payload);
    ctx.store.saveJob(active.record, job);
    result(ctx, active, job, { ok: true, output: payload, durationMs: job.durationMs });
  }
  return { pipelineId, signal: name, jobIds: waiting.map((job) => job.jobId) };
}

function isWaitingFor(job: JobRecord, name: string): boolean {
  return job.status === "waiting" && job.signal === name;
}
