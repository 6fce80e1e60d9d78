/**
 * The Router's durable store of pipelines and jobs: `node:sqlite` in the data dir,
 * WAL journal, group commit (all writes of one batch of messages in one transaction,
 * committed before any reply that depends on them is sent).
 *
 * Changes are written at the commit, once per pipeline however often it changed in
 * the batch. A pipeline of up to {@linkcode INLINE_JOBS} jobs is one row, its job
 * records inline; a bigger one keeps a row per job, so one job's change does not
 * rewrite thousands.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { JobRecord, PipelineRecord } from "../../core/protocol/mod.ts";
import { MapItemStore } from "./map_items.ts";
import { checkpointInBackground, type Checkpoints } from "./checkpoints.ts";
import { StartLog } from "./start_log.ts";
import {
  type PipelineFilter,
  PipelineQuery,
  type PipelineSummary,
  type Row,
  summaryOf,
} from "./store_query.ts";
import { applySchema, recordOf } from "./store_schema.ts";

export type { PipelineFilter, PipelineSummary } from "./store_query.ts";
import { JOB_LOGS_SCHEMA, JobLogs } from "./job_logs.ts";

/** How hard a commit waits for the disk. */
export type Durability = "process" | "power";

/** Options of {@linkcode PipelineStore.open}. */
export interface StoreOptions {
  /**
   * `process` (default): a commit survives the Router being killed (WAL, synchronous=NORMAL).
   * `power`: it also survives a power cut (synchronous=FULL, an fsync per commit).
   */
  durability?: Durability;
  /** Characters of log lines kept per job attempt (see `JobLogs`). Default 1 MiB. */
  maxLogChars?: number;
}

/** One page of {@linkcode PipelineStore.list}. */
export interface PipelinePage {
  /** Newest first. */
  pipelines: PipelineSummary[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  next?: string;
}

const ENDED = new Set(["succeeded", "failed", "cancelled"]);

/** Pipelines with at most this many jobs keep their job records in their own row. */
export const INLINE_JOBS = 64;

/** What changed in one pipeline since the last commit. */
interface Dirty {
  record: PipelineRecord;
  /** Its row (status, document, error, times; and inline jobs). */
  row: boolean;
  /** Jobs with rows of their own (big pipelines) to write. */
  jobs: Set<JobRecord>;
}

/** Pipelines and jobs on disk. Not thread-safe; one per Router. */
export class PipelineStore {
  readonly #db: DatabaseSync;
  readonly #statements: Record<string, StatementSync>;
  #inTransaction = false;
  #seq: number;
  #touched = new Set<string>();
  readonly #dirty = new Map<string, Dirty>();
  #checkpoints: Checkpoints | undefined;
  #beforeCommit: (() => void) | undefined;
  readonly #query: PipelineQuery;
  /** Pipelines by status, kept as they change: read on every poll, never counted again. */
  readonly #counts = new Map<string, number>();
  /** The status last written of each pipeline not yet ended, to move it in the counts. */
  readonly #live = new Map<string, string>();
  /** The items of `map` jobs, written in the same transactions. */
  readonly items: MapItemStore;
  /** Starts of rate-limited functions. */
  readonly starts: StartLog;
  /** The jobs' log lines, written in the same transactions. */
  readonly logs: JobLogs;

  private constructor(db: DatabaseSync, maxLogChars?: number) {
    this.#db = db;
    this.#query = new PipelineQuery(db);
    this.items = new MapItemStore(db, () => this.#begin());
    this.starts = new StartLog(db, () => this.#begin());
    this.logs = new JobLogs(db, () => this.#begin(), maxLogChars);
    const prepare = (sql: string) => db.prepare(sql);
    this.#statements = {
      insertPipeline: prepare(
        `INSERT INTO pipelines (id, seq, status, spec, document, error, created_at, started_at,
         finished_at, idempotency_key, jobs, retry_of, schedule_id, schedule_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (idempotency_key) DO NOTHING`,
      ),
      insertFunction: prepare(
        `INSERT OR IGNORE INTO pipeline_functions (fn, seq, pipeline_id) VALUES (?, ?, ?)`,
      ),
      retriedBy: prepare(`SELECT retried_by FROM pipelines WHERE id = ?`),
      setRetriedBy: prepare(`UPDATE pipelines SET retried_by = ? WHERE id = ?`),
      updatePipeline: prepare(
        `UPDATE pipelines SET status = ?, document = ?, error = ?, started_at = ?, finished_at = ?,
         jobs = ? WHERE id = ?`,
      ),
      upsertJob: prepare(
        `INSERT INTO jobs (pipeline_id, job_id, position, record) VALUES (?, ?, ?, ?)
         ON CONFLICT (pipeline_id, job_id) DO UPDATE SET record = excluded.record`,
      ),
      getPipeline: prepare(`SELECT * FROM pipelines WHERE id = ?`),
      getJobs: prepare(`SELECT record FROM jobs WHERE pipeline_id = ? ORDER BY position`),
      byKey: prepare(`SELECT id FROM pipelines WHERE idempotency_key = ?`),
      active: prepare(
        `SELECT * FROM pipelines WHERE status IN ('queued', 'running') ORDER BY seq`,
      ),
      counts: prepare(`SELECT status, COUNT(*) AS n FROM pipelines GROUP BY status`),
      maxSeq: prepare(`SELECT COALESCE(MAX(seq), 0) AS seq FROM pipelines`),
      prune: prepare(
        `DELETE FROM pipelines WHERE status IN ('succeeded', 'failed', 'cancelled')
         AND finished_at < ? RETURNING id, seq, status`,
      ),
      pruneJobs: prepare(`DELETE FROM jobs WHERE pipeline_id = ?`),
      served: prepare(`SELECT name, last_served FROM served_functions`),
      rememberServed: prepare(
        `INSERT INTO served_functions (name, last_served) VALUES (?, ?)
         ON CONFLICT (name) DO UPDATE SET last_served = excluded.last_served`,
      ),
      forgetServed: prepare(`DELETE FROM served_functions WHERE name = ?`),
      pruneFunctions: prepare(`DELETE FROM pipeline_functions WHERE seq = ?`),
    };
    this.#seq = Number((this.#statements.maxSeq!.get() as Row).seq);
    for (const row of this.#statements.counts!.all() as Row[]) {
      this.#counts.set(String(row.status), Number(row.n));
    }
  }

  /**
   * Opens (creating if needed) `<dataDir>/pipelinin.db`.
   *
   * @throws {Error} when the folder cannot be created or the file is not a database.
   */
  static open(dataDir: string, options: StoreOptions = {}): PipelineStore {
    Deno.mkdirSync(dataDir, { recursive: true });
    const db = new DatabaseSync(`${dataDir}/pipelinin.db`);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`PRAGMA synchronous = ${options.durability === "power" ? "FULL" : "NORMAL"}`);
    db.exec("PRAGMA busy_timeout = 5000");
    applySchema(db);
    db.exec(JOB_LOGS_SCHEMA);
    const store = new PipelineStore(db, options.maxLogChars);
    store.#checkpoints = checkpointInBackground(db, `${dataDir}/pipelinin.db`);
    return store;
  }

  #begin(): void {
    if (!this.#inTransaction) {
      this.#db.exec("BEGIN");
      this.#inTransaction = true;
    }
  }

  /** Writes what changed, then commits. Cheap when nothing did. */
  commit(): void {
    if (!this.#inTransaction) return;
    this.#flush();
    this.#beforeCommit?.();
    this.#inTransaction = false;
    this.#db.exec("COMMIT");
  }

  /**
   * Runs `hook` in every write transaction, after its writes and just before its
   * commit (a mirror reads what the transaction changed). One hook per store.
   */
  beforeCommit(hook: () => void): void {
    if (this.#beforeCommit) throw new Error("The store has a commit hook already");
    this.#beforeCommit = hook;
  }

  /** Writes each changed pipeline once (reads on this connection see it before the commit). */
  #flush(): void {
    this.items.flush();
    if (this.#dirty.size === 0) return;
    for (const { record, row, jobs } of this.#dirty.values()) {
      const inline = record.jobs.length <= INLINE_JOBS;
      if (row || inline) {
        this.#moved(record.id, record.status);
        this.#statements.updatePipeline!.run(
          record.status,
          JSON.stringify(record.document),
          record.error ? JSON.stringify(record.error) : null,
          record.startedAt ?? null,
          record.finishedAt ?? null,
          inline ? JSON.stringify(record.jobs) : null,
          record.id,
        );
      }
      if (inline) continue;
      for (const job of jobs) {
        this.#statements.upsertJob!.run(record.id, job.jobId, 0, JSON.stringify(job));
      }
    }
    this.#dirty.clear();
  }

  /** Moves a pipeline in the counts when its status written changes. */
  #moved(id: string, status: string): void {
    const was = this.#live.get(id);
    if (was === undefined || was === status) return;
    this.#count(was, -1);
    this.#count(status, 1);
    if (ENDED.has(status)) this.#live.delete(id);
    else this.#live.set(id, status);
  }

  #count(status: string, by: number): void {
    const n = (this.#counts.get(status) ?? 0) + by;
    if (n > 0) this.#counts.set(status, n);
    else this.#counts.delete(status);
  }

  #mark(record: PipelineRecord): Dirty {
    this.#begin();
    this.#touched.add(record.id);
    let dirty = this.#dirty.get(record.id);
    if (!dirty) {
      dirty = { record, row: false, jobs: new Set() };
      this.#dirty.set(record.id, dirty);
    }
    return dirty;
  }

  /** Ids of pipelines written since the last call (call after {@linkcode commit}). */
  takeTouched(): Set<string> {
    const touched = this.#touched;
    this.#touched = new Set();
    return touched;
  }

  /**
   * Tables of another module (schedules) on this connection, made by `schema`, written
   * in the pipelines' transactions: `beginWrite()` before each write.
   */
  tables(schema: string): { prepare(sql: string): StatementSync; beginWrite(): void } {
    this.#db.exec(schema);
    return { prepare: (sql) => this.#db.prepare(sql), beginWrite: () => this.#begin() };
  }

  /** Whether writes are waiting for {@linkcode commit}. */
  get dirty(): boolean {
    return this.#inTransaction;
  }

  /**
   * Stores a new pipeline and its jobs (at once: an idempotency key must be found at
   * once). False, storing nothing, when a pipeline has `idempotencyKey` already.
   *
   * @throws {Error} when a pipeline has `record.schedule`'s tick already (a constraint).
   */
  insertPipeline(record: PipelineRecord, idempotencyKey?: string): boolean {
    this.#begin();
    const inline = record.jobs.length <= INLINE_JOBS;
    const { changes } = this.#statements.insertPipeline!.run(
      record.id,
      ++this.#seq,
      record.status,
      JSON.stringify(record.spec),
      JSON.stringify(record.document),
      record.error ? JSON.stringify(record.error) : null,
      record.createdAt,
      record.startedAt ?? null,
      record.finishedAt ?? null,
      idempotencyKey ?? null,
      inline ? JSON.stringify(record.jobs) : null,
      record.retryOf ?? null,
      record.schedule?.id ?? null,
      record.schedule?.at ?? null,
    );
    if (Number(changes) === 0) return false;
    this.#touched.add(record.id);
    this.#count(record.status, 1);
    if (!ENDED.has(record.status)) this.#live.set(record.id, record.status);
    for (const fn of new Set(record.jobs.map((job) => job.fn))) {
      this.#statements.insertFunction!.run(fn, this.#seq, record.id);
    }
    if (inline) return true;
    // Jobs come in topological order; their position keeps it for reads.
    record.jobs.forEach((job, position) => {
      this.#statements.upsertJob!.run(record.id, job.jobId, position, JSON.stringify(job));
    });
    return true;
  }

  /** Stores a pipeline's status, document, error and times at the next commit. */
  savePipeline(record: PipelineRecord): void {
    this.#mark(record).row = true;
  }

  /**
   * Stores one job's record at the next commit. `job` must be one of `record.jobs`
   * (the live objects): what is written is their state at the commit.
   */
  saveJob(record: PipelineRecord, job: JobRecord): void {
    this.#mark(record).jobs.add(job);
  }

  /** A pipeline with its jobs, or undefined. */
  get(id: string): PipelineRecord | undefined {
    this.#flush();
    const row = this.#statements.getPipeline!.get(id) as Row | undefined;
    return row ? this.#toRecord(row) : undefined;
  }

  /** The id of the pipeline submitted with this idempotency key, if any. */
  idForKey(key: string): string | undefined {
    const row = this.#statements.byKey!.get(key) as Row | undefined;
    return row ? String(row.id) : undefined;
  }

  /** Pipelines not yet ended, oldest first (to resume after a restart). */
  active(): PipelineRecord[] {
    this.#flush();
    return (this.#statements.active!.all() as Row[]).map((row) => {
      this.#live.set(String(row.id), String(row.status));
      return this.#toRecord(row);
    });
  }

  /**
   * Pipelines newest first, filtered (see {@linkcode PipelineFilter}), as summaries:
   * no spec or document, each job only as `{jobId, fn, status}`.
   */
  list(filter: PipelineFilter = {}): PipelinePage {
    this.#flush();
    const { rows, next } = this.#query.page(filter, true);
    return { pipelines: rows.map(summaryOf), next };
  }

  /** How many pipelines there are of each status (kept as they change: costs no scan). */
  counts(): Record<string, number> {
    this.#flush();
    return Object.fromEntries(this.#counts);
  }

  /**
   * Links a pipeline to its retry both ways: `retry` was stored with `retryOf`, and
   * the first gets `retry` added to its `retriedBy`.
   */
  linkRetry(of: string, retry: string): void {
    this.#begin();
    const row = this.#statements.retriedBy!.get(of) as Row | undefined;
    if (!row) return;
    const ids: string[] = row.retried_by === null ? [] : JSON.parse(String(row.retried_by));
    ids.push(retry);
    this.#statements.setRetriedBy!.run(JSON.stringify(ids), of);
    this.#touched.add(of);
  }

  /** Deletes ended pipelines that finished before `before` (epoch ms); returns how many. */
  prune(before: number): number {
    this.#begin();
    const ids = this.#statements.prune!.all(before) as Row[];
    for (const row of ids) {
      this.#statements.pruneJobs!.run(String(row.id));
      this.items.drop(String(row.id));
      this.#statements.pruneFunctions!.run(Number(row.seq));
      this.#count(String(row.status), -1);
      this.logs.prune(String(row.id));
    }
    return ids.length;
  }

  /** Functions some broker served, with when one last did (epoch ms). */
  servedFunctions(): Map<string, number> {
    const rows = this.#statements.served!.all() as Row[];
    return new Map(rows.map((row) => [String(row.name), Number(row.last_served)]));
  }

  /** Remembers, at the next commit, that a broker served these functions at `at`. */
  rememberServed(names: Iterable<string>, at: number): void {
    this.#begin();
    for (const name of names) this.#statements.rememberServed!.run(name, at);
  }

  /** Forgets functions that no broker serves any more, at the next commit. */
  forgetServed(names: Iterable<string>): void {
    this.#begin();
    for (const name of names) this.#statements.forgetServed!.run(name);
  }

  /** Commits and closes the database (which checkpoints what is left). */
  close(): void {
    this.#checkpoints?.stop();
    this.#checkpoints = undefined;
    this.commit();
    this.#db.close();
  }

  #toRecord(row: Row): PipelineRecord {
    const jobs = row.jobs !== null
      ? JSON.parse(String(row.jobs)) as JobRecord[]
      : (this.#statements.getJobs!.all(String(row.id)) as Row[]).map((job) =>
        JSON.parse(String(job.record)) as JobRecord
      );
    return recordOf(row, jobs);
  }
}
