/**
 * The items of `map` jobs on disk: a row per item that ever started, written at the
 * store's commit like the jobs (so an item's outcome is durable before anything that
 * depends on it is said), and read back to resume a map after a restart without
 * running a finished item again. An item that never started has no row: it is pending.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { MapItemRecord } from "../../core/protocol/mod.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS map_items (
  pipeline_id TEXT NOT NULL,
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (pipeline_id, job_id, idx)
) WITHOUT ROWID;
`;

type Row = Record<string, string | number | null>;

/** Map items of one store's pipelines; its writes join the store's transaction. */
export class MapItemStore {
  readonly #statements: Record<string, StatementSync>;
  readonly #begin: () => void;
  /** Items changed since the last commit, with their pipeline and job. */
  readonly #dirty = new Map<MapItemRecord, { pipelineId: string; jobId: string }>();

  /** `begin` opens the store's transaction, if it is not open. */
  constructor(db: DatabaseSync, begin: () => void) {
    db.exec(SCHEMA);
    this.#begin = begin;
    this.#statements = {
      upsert: db.prepare(
        `INSERT INTO map_items (pipeline_id, job_id, idx, record) VALUES (?, ?, ?, ?)
         ON CONFLICT (pipeline_id, job_id, idx) DO UPDATE SET record = excluded.record`,
      ),
      all: db.prepare(
        `SELECT record FROM map_items WHERE pipeline_id = ? AND job_id = ? ORDER BY idx`,
      ),
      one: db.prepare(
        `SELECT record FROM map_items WHERE pipeline_id = ? AND job_id = ? AND idx = ?`,
      ),
      page: db.prepare(
        `SELECT record FROM map_items WHERE pipeline_id = ? AND job_id = ? AND idx >= ?
         ORDER BY idx LIMIT ?`,
      ),
      drop: db.prepare(`DELETE FROM map_items WHERE pipeline_id = ?`),
    };
  }

  /** Stores an item at the next commit (its state then: `item` is the live object). */
  save(pipelineId: string, jobId: string, item: MapItemRecord): void {
    this.#begin();
    this.#dirty.set(item, { pipelineId, jobId });
  }

  /** Writes the changed items (called by the store before it commits or reads). */
  flush(): void {
    for (const [item, { pipelineId, jobId }] of this.#dirty) {
      this.#statements.upsert!.run(pipelineId, jobId, item.index, JSON.stringify(item));
    }
    this.#dirty.clear();
  }

  /** The stored items of a map job (those that ever started), by index. */
  load(pipelineId: string, jobId: string): MapItemRecord[] {
    this.flush();
    return (this.#statements.all!.all(pipelineId, jobId) as Row[]).map(parse);
  }

  /** One stored item, or undefined when it never started (or there is none). */
  get(pipelineId: string, jobId: string, index: number): MapItemRecord | undefined {
    this.flush();
    const row = this.#statements.one!.get(pipelineId, jobId, index) as Row | undefined;
    return row ? parse(row) : undefined;
  }

  /** Stored items from `index` on, at most `limit`. */
  page(pipelineId: string, jobId: string, index: number, limit: number): MapItemRecord[] {
    this.flush();
    return (this.#statements.page!.all(pipelineId, jobId, index, limit) as Row[]).map(parse);
  }

  /** Deletes a pipeline's items (it was pruned). */
  drop(pipelineId: string): void {
    this.#statements.drop!.run(pipelineId);
  }
}

function parse(row: Row): MapItemRecord {
  return JSON.parse(String(row.record));
}
