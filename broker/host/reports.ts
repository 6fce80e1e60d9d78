/**
 * A host's job reports to the Router, held for a moment: reports of jobs that run
 * back to back leave together (one message, one wake-up of the Router). A job's log
 * lines wait with them, in order, so an attempt's lines reach the Router before its
 * end; lines of one attempt logged back to back leave as one `job-logs` event.
 *
 * @module
 */
import { errorData, ErrorName } from "../../core/errors.ts";
import {
  type JobLogRecord,
  type JobLogsEvent,
  MAX_BATCH,
  PROTOCOL_LIMITS,
} from "../../core/protocol/mod.ts";
import type { RouterLink } from "../../core/router_link.ts";
import type { BlackBoxRecord } from "../messages/black_box.ts";

/**
 * Longest a finished job's report waits for the ones after it on the same host, ms:
 * a job that then hangs holds them this long at most.
 */
const HOLD_MS = 2;

/** A `job-done` event. */
export type JobReport = Extract<Parameters<RouterLink["send"]>[0], { type: "job-done" }>;

/** Characters of log text in one `job-logs` event, at most (more start another). */
const MAX_LOG_EVENT_CHARS = 1024 * 1024;

/**
 * Told which job's report is being encoded (then `undefined` once it is sent), for
 * reports of large outputs: should the host die of it, its black box names that job,
 * not the one it runs next.
 */
export type Encoding = (job: BlackBoxRecord | undefined) => void;

/** Reports held until the host has nothing left to run, or `HOLD_MS`. */
export class ReportBatch {
  readonly #link: RouterLink;
  readonly #idle: () => boolean;
  readonly #encoding: Encoding;
  readonly #held: Array<JobReport | JobLogsEvent> = [];
  /** The job of each held report of a large output. */
  readonly #large = new Map<JobReport, BlackBoxRecord>();
  /** Characters of the last held `job-logs` event. */
  #logChars = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(link: RouterLink, idle: () => boolean, encoding: Encoding) {
    this.#link = link;
    this.#idle = idle;
    this.#encoding = encoding;
  }

  /**
   * Holds a report, to leave with those of the jobs that run right after; `large`
   * names its job when its output is large.
   */
  add(report: JobReport, large?: BlackBoxRecord): void {
    this.#held.push(report);
    if (large) this.#large.set(report, large);
    this.#added();
  }

  /** Holds a log line of an attempt, with the lines of it held already when there is room. */
  log(attempt: { pipelineId: string; jobId: string; attempt: number }, record: JobLogRecord): void {
    const size = record.message.length + (record.fields ? 64 : 0);
    const last = this.#held.at(-1);
    if (
      last?.type === "job-logs" && last.attempt === attempt.attempt &&
      last.jobId === attempt.jobId && last.pipelineId === attempt.pipelineId &&
      last.records.length < PROTOCOL_LIMITS.maxLogRecords &&
      this.#logChars + size <= MAX_LOG_EVENT_CHARS
    ) {
      last.records.push(record);
      this.#logChars += size;
      return; // Its release is under way.
    }
    const { pipelineId, jobId } = attempt;
    this.#held.push({
      type: "job-logs",
      pipelineId,
      jobId,
      attempt: attempt.attempt,
      records: [record],
    });
    this.#logChars = size;
    this.#added();
  }

  #added(): void {
    if (this.#held.length >= MAX_BATCH) this.flush();
    else queueMicrotask(() => this.#release());
  }

  /** Sends the held reports once the host has nothing left to run, else soon. */
  #release(): void {
    if (this.#held.length === 0) return;
    if (this.#idle()) return this.flush();
    this.#timer ??= setTimeout(() => this.flush(), HOLD_MS);
  }

  /** Sends every held report now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const report of this.#held.splice(0)) {
      if (report.type === "job-logs") {
        this.#link.send(report).catch(() => {});
        continue;
      }
      const large = this.#large.get(report);
      if (large) {
        this.#large.delete(report);
        this.#encoding(large);
      }
      try {
        this.#link.send(report).catch(() => {}); // One turn: one message.
      } catch (error) {
        // Encoding is the last check of an output (a cycle, a BigInt posted past the
        // worker's own): the job fails, the host lives on, and no job is blamed.
        this.#link.send(unsendable(report, error)).catch(() => {});
      } finally {
        if (large) this.#encoding(undefined);
      }
    }
  }
}

/** The report of a job whose outcome could not be encoded. */
function unsendable(report: JobReport, error: unknown): JobReport {
  const { followed: _, ...rest } = report;
  const what = report.outcome.ok ? "an output" : "an error";
  const message = `Job "${report.jobId}" ended with ${what} that cannot be sent: ${
    String((error as Error)?.message ?? error).slice(0, 200)
  }`;
  return {
    ...rest,
    outcome: {
      ok: false,
      error: errorData(ErrorName.InvalidOutput, message, false),
      durationMs: report.outcome.durationMs,
    },
  };
}
