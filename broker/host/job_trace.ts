/**
 * The spans of a worker host's jobs, when tracing is on: one per attempt in the host
 * (from the moment it took the job to its report), and a child per attempt in its Web
 * Worker (from the moment it was handed over to its answer), whose context the
 * function gets as `ctx.trace`. Both carry the function's name, the attempt and how
 * it ended. A host without tracing has no `JobTrace` at all.
 *
 * @module
 */
import type { TraceSpan, Tracing } from "../../core/tracing/mod.ts";
import type { ErrorData } from "../../core/types.ts";
import type { QueuedFollower, QueuedJob } from "./job.ts";

interface Traced {
  host: TraceSpan;
  worker?: TraceSpan;
  /** The run handed to the sandbox: its `trace` is set once its worker span starts. */
  run: QueuedJob | QueuedFollower;
}

/** How an attempt ended, for its spans. */
export type TraceOutcome =
  | { ok: true }
  | { ok: false; error: ErrorData }
  | { ok: "dropped" };

/** The spans of the runs a host took and has not reported yet. */
export class JobTrace {
  readonly #tracing: Tracing;
  readonly #host: string;
  readonly #runs = new Map<number, Traced>();

  constructor(tracing: Tracing, host: string) {
    this.#tracing = tracing;
    this.#host = host;
  }

  /** A job (and its chain) was taken: each run gets its host span, under the Router's. */
  took(job: { pipelineId: string; traceparent?: string }, queued: QueuedJob): void {
    for (let run: QueuedJob | QueuedFollower | undefined = queued; run; run = run.then) {
      const host = this.#tracing.start(`run ${run.fn}`, {
        kind: "consumer",
        ...(job.traceparent ? { parent: job.traceparent } : {}),
        attributes: {
          "pipelinin.pipeline.id": job.pipelineId,
          "pipelinin.job.id": run.jobId,
          "pipelinin.function": run.fn,
          "pipelinin.attempt": run.attempt,
          "pipelinin.host": this.#host,
        },
      });
      this.#runs.set(run.id, { host, run });
    }
  }

  /** A run was handed to its worker: its worker span starts, and the run carries it. */
  handed(id: number): void {
    const traced = this.#runs.get(id);
    if (!traced || traced.worker) return;
    traced.worker = this.#tracing.start(`function ${traced.run.fn}`, {
      parent: traced.host.context,
      attributes: {
        "pipelinin.function": traced.run.fn,
        "pipelinin.attempt": traced.run.attempt,
        "pipelinin.job.id": traced.run.jobId,
      },
    });
    traced.run.trace = traced.worker.context;
  }

  /** The run ended: its spans end with its outcome. */
  ended(id: number, outcome: TraceOutcome): void {
    const traced = this.#runs.get(id);
    if (!traced) return;
    this.#runs.delete(id);
    const label = outcome.ok === true ? "succeeded" : outcome.ok === false ? "failed" : "dropped";
    for (const span of [traced.worker, traced.host]) {
      if (!span) continue;
      span.set({ "pipelinin.outcome": label });
      if (outcome.ok === false) span.fail(outcome.error);
      span.end();
    }
  }
}
