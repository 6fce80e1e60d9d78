/**
 * The store's filtered list of pipelines, newest first: by status, by a function
 * any of its jobs runs, by creation time, and by a search for an id, an id's
 * beginning or an idempotency key. Every filter reads an index (`pipelines_status`,
 * `pipeline_functions`, `pipelines_created`, the id and key indexes), so a page
 * costs about its own size, not the store's.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { PipelineStatus } from "../../core/types.ts";
import type { JobRecord } from "../../core/protocol/mod.ts";
import { runAtOf } from "../../core/dag/mod.ts";
import { type PipelineHead, withHead } from "./store_schema.ts";

/** What {@linkcode PipelineQuery.page} selects. */
export interface PipelineFilter {
  /** Any of these statuses. */
  statuses?: readonly PipelineStatus[];
  /** A function one of its jobs runs. */
  fn?: string;
  /** Created at or after, epoch ms. */
  since?: number;
  /** Created before, epoch ms. */
  until?: number;
  /** An id, the beginning of one (8 characters or more), or an idempotency key. */
  search?: string;
  /** At most this many, 1 to 500 (default 50). */
  limit?: number;
  /** The `next` of the page before. */
  cursor?: string;
}

/** A row of `pipelines`. */
export type Row = Record<string, string | number | null>;

/** Shortest search taken as the beginning of an id (shorter ones match ids and keys whole). */
export const MIN_PREFIX = 8;

/**
 * The columns of a summary row: no document, of the spec only its timing fields, and
 * each job as `{jobId, fn, status}`. SQLite's JSON functions cut them, so a list of
 * pipelines with big documents or outputs parses none of those.
 */
const SUMMARY_COLUMNS = `p.id, p.seq, p.status, p.created_at, p.started_at, p.finished_at, p.error,
  p.idempotency_key, p.retry_of, p.retried_by, p.schedule_id, p.schedule_at,
  p.spec ->> '$.delayMs' AS delay_ms, p.spec ->> '$.runAt' AS run_at,
  CASE WHEN p.jobs IS NULL
    THEN (SELECT json_group_array(json_object('jobId', j.record ->> '$.jobId',
      'fn', j.record ->> '$.fn', 'status', j.record ->> '$.status'))
      FROM (SELECT record FROM jobs WHERE pipeline_id = p.id ORDER BY position) j)
    ELSE (SELECT json_group_array(json_object('jobId', e.value ->> '$.jobId',
      'fn', e.value ->> '$.fn', 'status', e.value ->> '$.status')) FROM json_each(p.jobs) e)
  END AS jobs`;

/** Prepared statements per shape of filter (a few dozen at most), over one connection. */
export class PipelineQuery {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #firstCreated: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#firstCreated = db.prepare(
      "SELECT seq FROM pipelines WHERE created_at >= ? ORDER BY created_at, seq LIMIT 1",
    );
  }

  /**
   * One page: up to `limit` rows, newest first, and the cursor of the next page;
   * whole rows, or summary rows (see `SUMMARY_COLUMNS`).
   */
  page(filter: PipelineFilter, summaries = false): { rows: Row[]; next?: string } {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
    // Creation times are turned into bounds on `seq` (both grow with each submit), so
    // the newest-first scan of an index stops where the time range does.
    let below = filter.cursor ? Number(filter.cursor) : Number.MAX_SAFE_INTEGER;
    let from = 0;
    if (filter.until !== undefined) {
      const first = this.#firstCreated.get(filter.until) as Row | undefined;
      if (first) below = Math.min(below, Number(first.seq));
    }
    if (filter.since !== undefined) {
      const first = this.#firstCreated.get(filter.since) as Row | undefined;
      if (!first) return { rows: [] };
      from = Number(first.seq);
    }
    const statuses = filter.statuses ?? [];
    const search = filter.search;
    const prefix = search !== undefined && search.length >= MIN_PREFIX;
    const shape = [
      filter.fn !== undefined,
      statuses.length,
      search !== undefined,
      prefix,
      summaries,
    ]
      .join();
    let statement = this.#statements.get(shape);
    if (!statement) {
      const columns = summaries ? SUMMARY_COLUMNS : "p.*";
      statement = this.#db.prepare(
        sql(columns, filter.fn !== undefined, statuses.length, search, prefix),
      );
      this.#statements.set(shape, statement);
    }
    const params: Array<string | number> = [];
    if (filter.fn !== undefined) params.push(filter.fn);
    params.push(below, from, ...statuses);
    if (search !== undefined) {
      params.push(search, search);
      // Ids are ASCII: every id that starts with `search` sorts below this bound.
      if (prefix) params.push(search, search + "\u007f");
    }
    params.push(limit + 1);
    const rows = statement.all(...params) as Row[];
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return rows.length > limit && last ? { rows: page, next: String(last.seq) } : { rows: page };
  }
}

function sql(
  columns: string,
  byFn: boolean,
  statuses: number,
  search: string | undefined,
  prefix: boolean,
) {
  const seq = byFn ? "f.seq" : "p.seq";
  const parts = [
    byFn
      ? `SELECT ${columns} FROM pipeline_functions f JOIN pipelines p ON p.id = f.pipeline_id WHERE f.fn = ?`
      : `SELECT ${columns} FROM pipelines p WHERE 1`,
    `AND ${seq} < ? AND ${seq} >= ?`,
  ];
  if (statuses > 0) parts.push(`AND p.status IN (${new Array(statuses).fill("?").join(", ")})`);
  if (search !== undefined) {
    // A search matches few rows: they are looked up by the id and key indexes first.
    const ids = [
      "SELECT seq FROM pipelines WHERE id = ?",
      "SELECT seq FROM pipelines WHERE idempotency_key = ?",
      ...(prefix ? ["SELECT seq FROM pipelines WHERE id >= ? AND id < ?"] : []),
    ];
    parts.push(`AND ${seq} IN (${ids.join(" UNION ")})`);
  }
  parts.push(`ORDER BY ${seq} DESC LIMIT ?`);
  return parts.join(" ");
}

/** A pipeline in a list: its jobs without outputs, no spec or document. */
export interface PipelineSummary extends PipelineHead {
  jobs: Pick<JobRecord, "jobId" | "fn" | "status">[];
}

/** A row of `SUMMARY_COLUMNS` as a summary. */
export function summaryOf(row: Row): PipelineSummary {
  const summary: PipelineSummary = withHead(row, {
    id: String(row.id),
    status: String(row.status) as PipelineSummary["status"],
    jobs: JSON.parse(String(row.jobs)) as PipelineSummary["jobs"],
    createdAt: Number(row.created_at),
  });
  const timing = {
    ...(row.delay_ms !== null ? { delayMs: Number(row.delay_ms) } : {}),
    ...(row.run_at !== null ? { runAt: row.run_at } : {}),
  };
  const runAt = runAtOf(timing, summary.createdAt);
  if (runAt !== undefined) summary.runAt = runAt;
  return summary;
}
