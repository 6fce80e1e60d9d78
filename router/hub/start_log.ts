/**
 * The starts of rate-limited functions, in the Router's store, so that a rate limit
 * holds across a restart: a window's starts before the Router died still count
 * after. Written in the batch's transaction; rows older than the longest window
 * are deleted as new ones come.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** The longest rate window a function may ask for (one day), ms. */
const KEEP_MS = 86_400_000;
/** Inserts between two deletions of old rows. */
const PRUNE_EVERY = 1000;

/** The `limit_starts` table. */
export class StartLog {
  static readonly SCHEMA =
    `CREATE TABLE IF NOT EXISTS limit_starts (fn TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS limit_starts_at ON limit_starts (at);`;
  readonly #insert: StatementSync;
  readonly #since: StatementSync;
  readonly #prune: StatementSync;
  readonly #begin: () => void;
  #inserts = 0;

  /** Over `db` (making its table if needed); `begin` opens the batch's transaction. */
  constructor(db: DatabaseSync, begin: () => void) {
    db.exec(StartLog.SCHEMA);
    this.#insert = db.prepare("INSERT INTO limit_starts (fn, at) VALUES (?, ?)");
    this.#since = db.prepare("SELECT fn, at FROM limit_starts WHERE at > ? ORDER BY at");
    this.#prune = db.prepare("DELETE FROM limit_starts WHERE at <= ?");
    this.#begin = begin;
  }

  /** An attempt of `fn` started at `at` (committed with the batch). */
  note(fn: string, at: number): void {
    this.#begin();
    this.#insert.run(fn, at);
    if (++this.#inserts % PRUNE_EVERY === 0) this.#prune.run(at - KEEP_MS);
  }

  /** The starts of the last day, oldest first. */
  recent(now = Date.now()): Array<{ fn: string; at: number }> {
    return (this.#since.all(now - KEEP_MS) as Array<{ fn: string; at: number }>).map((row) => ({
      fn: String(row.fn),
      at: Number(row.at),
    }));
  }
}
