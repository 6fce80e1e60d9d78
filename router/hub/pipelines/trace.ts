/**
 * The Router's spans, when tracing is on: one trace per pipeline. Its root is the
 * pipeline's span, from the submit to its end (a child of the submitter's
 * `traceparent` when one came); under it the submit itself, and one span per attempt
 * from the moment it was queued to its `job-run`, whose `traceparent` the worker host
 * continues. A Router without tracing has no `PipelineTrace` at all.
 *
 * @module
 */
import type { PipelineRecord } from "../../../core/protocol/mod.ts";
import type { TraceSpan, Tracing } from "../../../core/tracing/mod.ts";
import type { Attempt } from "../scheduler.ts";
import { executionKey } from "../scheduler.ts";

/** The spans of the pipelines the Router drives now. */
export class PipelineTrace {
  /** When each waiting attempt was queued (epoch ms), by execution key. */
  readonly queuedAt = new Map<string, number>();
  readonly #tracing: Tracing;
  readonly #pipelines = new Map<string, TraceSpan>();

  constructor(tracing: Tracing) {
    this.#tracing = tracing;
  }

  /** A pipeline was accepted (its submit began at `since`, epoch ms). */
  submitted(record: PipelineRecord, since: number, parent?: string): void {
    const span = this.#tracing.start("pipeline", {
      ...(parent ? { parent } : {}),
      kind: "server",
      time: since,
      attributes: {
        "pipelinin.pipeline.id": record.id,
        "pipelinin.jobs": record.jobs.length,
      },
    });
    this.#pipelines.set(record.id, span);
    this.#tracing.start("submit", {
      parent: span.context,
      time: since,
      attributes: { "pipelinin.pipeline.id": record.id },
    }).end();
  }

  /** The `traceparent` of a pipeline's span, for the messages about it. */
  parentOf(pipelineId: string): string | undefined {
    return this.#pipelines.get(pipelineId)?.context.traceparent;
  }

  /** An attempt goes to a broker now: its scheduling span ends; returns its `traceparent`. */
  dispatched(attempt: Attempt, broker: string): string | undefined {
    const pipeline = this.#pipelines.get(attempt.pipelineId);
    if (!pipeline) return undefined;
    const key = executionKey(attempt.pipelineId, attempt.jobId);
    const since = this.queuedAt.get(key);
    this.queuedAt.delete(key);
    const span = this.#tracing.start(`schedule ${attempt.fn}`, {
      parent: pipeline.context,
      kind: "producer",
      ...(since !== undefined ? { time: since } : {}),
      attributes: {
        "pipelinin.pipeline.id": attempt.pipelineId,
        "pipelinin.job.id": attempt.jobId,
        "pipelinin.function": attempt.fn,
        "pipelinin.attempt": attempt.attempt,
        "pipelinin.broker": broker,
      },
    });
    span.end();
    return span.context.traceparent;
  }

  /** A pipeline ended: its span ends with its status (and error). */
  ended(record: PipelineRecord): void {
    const span = this.#pipelines.get(record.id);
    if (!span) return;
    this.#pipelines.delete(record.id);
    for (const job of record.jobs) this.queuedAt.delete(executionKey(record.id, job.jobId));
    span.set({ "pipelinin.status": record.status });
    if (record.error) span.fail(record.error);
    span.end();
  }
}
