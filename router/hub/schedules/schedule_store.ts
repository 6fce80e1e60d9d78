/**
 * Schedules on disk, in the Router's store and its transactions: a schedule's row
 * and the tick it handled last commit with the pipeline that tick started. The
 * store's unique index on each pipeline's schedule and tick is the last guard: a
 * tick that started a pipeline cannot start another.
 *
 * @module
 */
import type { ScheduleOutcome } from "../../../core/protocol/mod.ts";
import type { ScheduleSpec } from "../../../core/types.ts";
import type { PipelineStore } from "../store.ts";

type StoreTables = ReturnType<PipelineStore["tables"]>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS schedules (
  id TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  handled_until INTEGER NOT NULL,
  last_tick TEXT,
  last_pipeline TEXT
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS pipelines_schedule
  ON pipelines (schedule_id, schedule_at) WHERE schedule_id IS NOT NULL;
`;

/** A schedule as stored. */
export interface StoredSchedule {
  spec: Required<ScheduleSpec>;
  createdAt: number;
  updatedAt: number;
  /** Ticks at or before this (epoch ms) are handled: fired, skipped, or before it existed. */
  handledUntil: number;
  lastTick?: ScheduleOutcome;
  /** The pipeline it started last, for `overlap: "skip"`. */
  lastPipeline?: string;
}

type Row = Record<string, string | number | null>;

/** The schedules table. */
export class ScheduleStore {
  readonly #tables: StoreTables;
  readonly #all;
  readonly #upsert;
  readonly #delete;
  readonly #tick;

  constructor(store: PipelineStore) {
    const tables = this.#tables = store.tables(SCHEMA);
    this.#all = tables.prepare(`SELECT * FROM schedules ORDER BY id`);
    this.#upsert = tables.prepare(
      `INSERT INTO schedules (id, spec, created_at, updated_at, handled_until, last_tick,
       last_pipeline) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at,
       handled_until = excluded.handled_until`,
    );
    this.#delete = tables.prepare(`DELETE FROM schedules WHERE id = ?`);
    this.#tick = tables.prepare(
      `UPDATE schedules SET handled_until = ?, last_tick = ?, last_pipeline = ? WHERE id = ?`,
    );
  }

  /** Every schedule, by id. */
  all(): StoredSchedule[] {
    return (this.#all.all() as Row[]).map((row) => {
      const stored: StoredSchedule = {
        spec: JSON.parse(String(row.spec)),
        createdAt: Number(row.created_at),
        updatedAt: Number(row.updated_at),
        handledUntil: Number(row.handled_until),
      };
      if (row.last_tick !== null) stored.lastTick = JSON.parse(String(row.last_tick));
      if (row.last_pipeline !== null) stored.lastPipeline = String(row.last_pipeline);
      return stored;
    });
  }

  /** Creates or replaces a schedule (a replaced one keeps its creation and last tick). */
  put(schedule: StoredSchedule): void {
    this.#tables.beginWrite();
    this.#upsert.run(
      schedule.spec.id,
      JSON.stringify(schedule.spec),
      schedule.createdAt,
      schedule.updatedAt,
      schedule.handledUntil,
      schedule.lastTick ? JSON.stringify(schedule.lastTick) : null,
      schedule.lastPipeline ?? null,
    );
  }

  /** Deletes a schedule (the pipelines it started stay). */
  delete(id: string): void {
    this.#tables.beginWrite();
    this.#delete.run(id);
  }

  /** Records a handled tick, in the batch that stored the pipeline it started, if any. */
  tick(schedule: StoredSchedule): void {
    this.#tables.beginWrite();
    this.#tick.run(
      schedule.handledUntil,
      schedule.lastTick ? JSON.stringify(schedule.lastTick) : null,
      schedule.lastPipeline ?? null,
      schedule.spec.id,
    );
  }
}
