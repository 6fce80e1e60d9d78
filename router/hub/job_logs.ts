/**
 * The log lines of job attempts, in the Router's store: each `job-logs` event is one
 * row (its lines as JSON lines), written in the batch's transaction, so a function
 * that logs a lot costs the Router a row per batch of lines, not per line. Each
 * attempt keeps at most `maxChars` characters (messages and fields); past that its
 * lines are counted, and one line, kept up to date, says how much was cut.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { JobLogRecord, JobLogsEvent } from "../../core/protocol/mod.ts";

/** One stored line, as the HTTP API returns it. */
export interface JobLogLine extends JobLogRecord {
  attempt: number;
}

/** Lines of one row: `seq` orders rows, and resumes a read after it. */
export interface JobLogChunk {
  seq: number;
  lines: JobLogLine[];
}

/** The default cap of one attempt's lines, in characters of messages and fields. */
export const DEFAULT_MAX_LOG_CHARS = 1024 * 1024;

export const JOB_LOGS_SCHEMA = `
CREATE TABLE IF NOT EXISTS job_logs (
  seq INTEGER PRIMARY KEY,
  pipeline_id TEXT NOT NULL,
  job_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  lines TEXT NOT NULL,
  chars INTEGER NOT NULL,
  cut INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS job_logs_job ON job_logs (pipeline_id, job_id, seq);
`;

/** What the Router knows of an attempt's log while it may still grow. */
interface AttemptLog {
  used: number;
  /** The row of the line that says how much was cut, once something was. */
  cutSeq?: number;
  cutRecords: number;
  cutChars: number;
}

/** Attempts whose usage is kept in memory; older ones are read again from the store. */
const MAX_TRACKED = 10_000;

type Row = Record<string, string | number | null>;

/** Job log lines on disk; shares the pipeline store's connection and transactions. */
export class JobLogs {
  readonly #maxChars: number;
  readonly #begin: () => void;
  readonly #sql: Record<string, StatementSync>;
  readonly #attempts = new Map<string, AttemptLog>();
  #touched = new Set<string>();

  constructor(db: DatabaseSync, begin: () => void, maxChars = DEFAULT_MAX_LOG_CHARS) {
    this.#maxChars = maxChars;
    this.#begin = begin;
    const prepare = (sql: string) => db.prepare(sql);
    this.#sql = {
      insert: prepare(
        `INSERT INTO job_logs (pipeline_id, job_id, attempt, lines, chars, cut)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING seq`,
      ),
      updateCut: prepare(`UPDATE job_logs SET lines = ? WHERE seq = ?`),
      used: prepare(
        `SELECT COALESCE(SUM(chars), 0) AS used FROM job_logs
         WHERE pipeline_id = ? AND job_id = ? AND attempt = ? AND cut = 0`,
      ),
      cutRow: prepare(
        `SELECT seq, lines FROM job_logs
         WHERE pipeline_id = ? AND job_id = ? AND attempt = ? AND cut = 1`,
      ),
      read: prepare(
        `SELECT seq, attempt, lines FROM job_logs
         WHERE pipeline_id = ? AND job_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      ),
      readAttempt: prepare(
        `SELECT seq, attempt, lines FROM job_logs
         WHERE pipeline_id = ? AND job_id = ? AND attempt = ? AND seq > ? ORDER BY seq LIMIT ?`,
      ),
      prune: prepare(`DELETE FROM job_logs WHERE pipeline_id = ?`),
    };
  }

  /** The cap of one attempt, characters. */
  get maxChars(): number {
    return this.#maxChars;
  }

  /** Stores what fits of the event's lines under its attempt's cap; counts the rest. */
  append(event: JobLogsEvent): void {
    if (event.records.length === 0) return;
    const { pipelineId, jobId, attempt } = event;
    const key = `${pipelineId}\u0000${jobId}\u0000${attempt}`;
    const log = this.#attempt(key, event);
    let text = "";
    let kept = 0;
    for (const record of event.records) {
      const fields = record.fields === undefined ? "" : JSON.stringify(record.fields);
      const size = record.message.length + fields.length;
      if (log.used + size > this.#maxChars) {
        log.cutRecords++;
        log.cutChars += size;
        continue;
      }
      log.used += size;
      kept += size;
      text += lineText(attempt, record, fields);
    }
    this.#begin();
    const insert = this.#sql.insert!;
    if (text !== "") insert.run(pipelineId, jobId, attempt, text, kept, 0);
    if (log.cutRecords > 0) {
      const cutLine = lineText(attempt, {
        time: Date.now(),
        level: "warn",
        message: `Log cut at ${this.#maxChars} characters: ${log.cutRecords} more records ` +
          `(${log.cutChars} characters) were left out`,
      }, JSON.stringify({ cut: { records: log.cutRecords, chars: log.cutChars } }));
      if (log.cutSeq === undefined) {
        const row = insert.get(pipelineId, jobId, attempt, cutLine, 0, 1) as Row;
        log.cutSeq = Number(row.seq);
      } else this.#sql.updateCut!.run(cutLine, log.cutSeq);
    }
    this.#touched.add(pipelineId);
  }

  /** Up to `limit` rows of a job's lines after `after`, of one attempt or all. */
  read(
    pipelineId: string,
    jobId: string,
    options: { attempt?: number; after?: number; limit?: number } = {},
  ): JobLogChunk[] {
    const after = options.after ?? 0;
    const limit = options.limit ?? 1000;
    const rows =
      (options.attempt === undefined
        ? this.#sql.read!.all(pipelineId, jobId, after, limit)
        : this.#sql.readAttempt!.all(pipelineId, jobId, options.attempt, after, limit)) as Row[];
    return rows.map((row) => ({
      seq: Number(row.seq),
      lines: String(row.lines).split("\n").filter((line) => line !== "").map((line) =>
        JSON.parse(line) as JobLogLine
      ),
    }));
  }

  /** Deletes a pruned pipeline's lines (in the caller's transaction). */
  prune(pipelineId: string): void {
    this.#sql.prune!.run(pipelineId);
    for (const key of this.#attempts.keys()) {
      if (key.startsWith(`${pipelineId}\u0000`)) this.#attempts.delete(key);
    }
  }

  /** Ids of pipelines whose lines grew since the last call. */
  takeTouched(): Set<string> {
    const touched = this.#touched;
    this.#touched = new Set();
    return touched;
  }

  #attempt(key: string, event: JobLogsEvent): AttemptLog {
    let log = this.#attempts.get(key);
    if (log) return log;
    const { pipelineId, jobId, attempt } = event;
    const used = Number((this.#sql.used!.get(pipelineId, jobId, attempt) as Row).used);
    log = { used, cutRecords: 0, cutChars: 0 };
    const cut = this.#sql.cutRow!.get(pipelineId, jobId, attempt) as Row | undefined;
    if (cut) {
      const line = JSON.parse(String(cut.lines)) as JobLogLine;
      const counts = line.fields?.cut as { records?: number; chars?: number } | undefined;
      log.cutSeq = Number(cut.seq);
      log.cutRecords = Number(counts?.records ?? 0);
      log.cutChars = Number(counts?.chars ?? 0);
    }
    if (this.#attempts.size >= MAX_TRACKED) {
      this.#attempts.delete(this.#attempts.keys().next().value!);
    }
    this.#attempts.set(key, log);
    return log;
  }
}

/** One line of JSON lines text; `fields` is the record's fields as JSON, or "". */
function lineText(attempt: number, record: JobLogRecord, fields: string): string {
  const head = JSON.stringify({
    attempt,
    time: record.time,
    level: record.level,
    message: record.message,
  });
  return (fields === "" ? head : `${head.slice(0, -1)},"fields":${fields}}`) + "\n";
}
