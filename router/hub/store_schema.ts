/**
 * The store's tables and indexes, the upgrades of stores made by older Routers, and
 * how a row of `pipelines` reads as a record.
 * `pipeline_functions` indexes each pipeline under every function it runs, in
 * submit order, so the list filtered by function reads an index instead of every
 * pipeline's jobs.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { JobRecord, PipelineRecord } from "../../core/protocol/mod.ts";
import type { PipelineStatus } from "../../core/types.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pipelines (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  status TEXT NOT NULL,
  spec TEXT NOT NULL,
  document TEXT NOT NULL,
  error TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  idempotency_key TEXT UNIQUE,
  jobs TEXT,
  retry_of TEXT,
  retried_by TEXT
);
CREATE INDEX IF NOT EXISTS pipelines_status ON pipelines (status, seq);
CREATE INDEX IF NOT EXISTS pipelines_seq ON pipelines (seq);
CREATE TABLE IF NOT EXISTS jobs (
  pipeline_id TEXT NOT NULL,
  job_id TEXT NOT NULL,
  position INTEGER NOT NULL DEFAULT 0,
  record TEXT NOT NULL,
  PRIMARY KEY (pipeline_id, job_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pipeline_functions (
  fn TEXT NOT NULL,
  seq INTEGER NOT NULL,
  pipeline_id TEXT NOT NULL,
  PRIMARY KEY (fn, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pipeline_functions_seq ON pipeline_functions (seq);
CREATE TABLE IF NOT EXISTS served_functions (
  name TEXT PRIMARY KEY,
  last_served INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Indexes added after the first stores were made. */
const LATER_INDEXES = `
CREATE INDEX IF NOT EXISTS pipelines_created ON pipelines (created_at, seq);
`;

/** The schema this Router writes; older stores are upgraded to it at open. */
const VERSION = 1;

type Row = Record<string, string | number | null>;

/** Creates the tables, or upgrades an older store's. */
export function applySchema(db: DatabaseSync): void {
  db.exec(SCHEMA);
  const columns = new Set(
    (db.prepare("PRAGMA table_info(pipelines)").all() as Row[]).map((c) => String(c.name)),
  );
  // Stores made before inline jobs: their pipelines keep job rows.
  if (!columns.has("jobs")) db.exec("ALTER TABLE pipelines ADD COLUMN jobs TEXT");
  if (!columns.has("retry_of")) db.exec("ALTER TABLE pipelines ADD COLUMN retry_of TEXT");
  if (!columns.has("retried_by")) db.exec("ALTER TABLE pipelines ADD COLUMN retried_by TEXT");
  if (!columns.has("schedule_id")) {
    db.exec("ALTER TABLE pipelines ADD COLUMN schedule_id TEXT");
    db.exec("ALTER TABLE pipelines ADD COLUMN schedule_at INTEGER");
  }
  db.exec(LATER_INDEXES);
  const version = Number((db.prepare("PRAGMA user_version").get() as Row).user_version);
  if (version < 1) indexFunctions(db);
  if (version < VERSION) db.exec(`PRAGMA user_version = ${VERSION}`);
}

/** Indexes the functions of pipelines stored before `pipeline_functions` existed (once). */
function indexFunctions(db: DatabaseSync): void {
  const insert = db.prepare(
    "INSERT OR IGNORE INTO pipeline_functions (fn, seq, pipeline_id) VALUES (?, ?, ?)",
  );
  const jobRows = db.prepare("SELECT record FROM jobs WHERE pipeline_id = ?");
  db.exec("BEGIN");
  try {
    for (
      const row of db.prepare("SELECT id, seq, jobs FROM pipelines").iterate() as Iterable<Row>
    ) {
      const jobs: Array<{ fn: string }> = row.jobs !== null
        ? JSON.parse(String(row.jobs))
        : (jobRows.all(String(row.id)) as Row[]).map((job) => JSON.parse(String(job.record)));
      for (const fn of new Set(jobs.map((job) => job.fn))) {
        insert.run(fn, Number(row.seq), String(row.id));
      }
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/** A `pipelines` row as a record, with `jobs` (read from its row or its job rows). */
export function recordOf(row: Row, jobs: JobRecord[]): PipelineRecord {
  return withHead(row, {
    id: String(row.id),
    status: String(row.status) as PipelineStatus,
    spec: JSON.parse(String(row.spec)),
    document: JSON.parse(String(row.document)),
    jobs,
    createdAt: Number(row.created_at),
  });
}

/** A pipeline's fields beside its spec, document and jobs, from its row. */
export type PipelineHead = Omit<PipelineRecord, "spec" | "document" | "jobs">;

/** Sets the optional fields of a pipeline's head from its row. */
export function withHead<T extends PipelineHead>(row: Row, record: T): T {
  if (row.started_at !== null) record.startedAt = Number(row.started_at);
  if (row.finished_at !== null) record.finishedAt = Number(row.finished_at);
  if (record.startedAt && record.finishedAt) {
    record.durationMs = record.finishedAt - record.startedAt;
  }
  if (row.error !== null) record.error = JSON.parse(String(row.error));
  if (row.idempotency_key !== null) record.idempotencyKey = String(row.idempotency_key);
  if (row.retry_of !== null) record.retryOf = String(row.retry_of);
  if (row.retried_by !== null) record.retriedBy = JSON.parse(String(row.retried_by));
  if (row.schedule_id != null) {
    record.schedule = { id: String(row.schedule_id), at: Number(row.schedule_at) };
  }
  return record;
}
