/**
 * The hub's {@linkcode CommitMirror} on PostgreSQL: at each store commit the rows it
 * changed are taken (inside the SQLite transaction) and queued on the mirror; the
 * hub's answers wait for the mirror's PostgreSQL commit. Acting is allowed while the
 * lease is held, as checked on the monotonic clock at every call.
 *
 * @module
 */
import type { Logger } from "../../core/log.ts";
import type { CommitMirror, MirrorStats } from "../hub/hub.ts";
import type { PipelineStore } from "../hub/store.ts";
import { ChangeCapture, type ChangeSet } from "./change_capture.ts";
import type { Lease } from "./lease.ts";
import { FencedError, StoreMirror } from "./mirror.ts";
import { syncTables } from "./pg_schema.ts";
import type { PgSession } from "./pg_session.ts";
import { readTables } from "./sqlite_tables.ts";
import { schemaOf } from "./working_copy.ts";

/** The store's commits, mirrored to PostgreSQL under the lease. */
export class PostgresCommits implements CommitMirror {
  readonly #db: PgSession;
  readonly #lease: Lease;
  readonly #log: Logger;
  #mirror: StoreMirror | undefined;
  #pending: ChangeSet | undefined;
  #fenced = false;
  readonly #onFenced: (reason: string) => void;

  /** `onFenced`: called once the mirror refuses a commit (the Router must halt). */
  constructor(db: PgSession, lease: Lease, log: Logger, onFenced: (reason: string) => void) {
    this.#onFenced = onFenced;
    this.#db = db;
    this.#lease = lease;
    this.#log = log;
  }

  /** Transactions the mirror committed. */
  get commits(): number {
    return this.#mirror?.commits ?? 0;
  }

  /**
   * Reads the store's tables, installs the change triggers and the commit hook, and
   * makes the PostgreSQL tables (before the mirror's first transaction).
   */
  attach(store: PipelineStore): void {
    const { prepare } = store.tables("");
    const tables = readTables(prepare);
    const capture = new ChangeCapture((ddl) => store.tables(ddl), prepare, tables);
    store.beforeCommit(() => {
      const changes = capture.take();
      if (!this.#pending) this.#pending = changes;
      else {
        for (const [table, rows] of changes) {
          const into = this.#pending.get(table);
          if (!into) this.#pending.set(table, rows);
          else for (const [key, row] of rows) into.set(key, row);
        }
      }
    });
    const ready = syncTables(this.#db.sql, tables, schemaOf(prepare));
    this.#mirror = new StoreMirror(this.#db, this.#lease, tables, this.#log, ready);
  }

  committed(): Promise<void> | undefined {
    const changes = this.#pending ?? new Map();
    this.#pending = undefined;
    if (!this.#mirror) throw new Error("The mirror is not attached to the store");
    const durable = this.#mirror.enqueue(changes);
    durable?.catch((error) =>
      this.#onFenced(error instanceof Error ? error.message : String(error))
    );
    return durable;
  }

  stats(): MirrorStats {
    return {
      commits: this.#mirror?.commits ?? 0,
      retries: this.#mirror?.retries ?? 0,
      clientsReplaced: this.#db.replaced,
      lagMs: this.#mirror?.lagMs ?? 0,
    };
  }

  mayAct(): boolean {
    return !this.#fenced && this.#lease.check();
  }

  /** Resolves once the mirror has nothing queued or in flight. */
  async idle(): Promise<void> {
    await this.#mirror?.idle();
  }

  /** Refuses what is queued and all that follows. */
  fence(reason: string): void {
    this.#fenced = true;
    this.#mirror?.fence(new FencedError(reason));
  }
}
