/**
 * The row mirror: writes what each SQLite commit changed to PostgreSQL, in commit
 * order, and says when it is there (the hub holds its acknowledgements until then).
 * One PostgreSQL transaction is in flight at a time; the commits that come meanwhile
 * are merged (a row keeps its latest image) and go in the next one: a group commit.
 * Each transaction first locks the lease row where it still names this Router and
 * its epoch: when another Router took over, nothing is written or acknowledged, and
 * the Router is fenced. A transaction that fails otherwise (the database restarting)
 * is retried as it was, its upserts being idempotent, for as long as the lease is
 * held; after that the Router is fenced too. An attempt that does not settle within
 * the lease's TTL is given up on a new client (see `PgSession`): a retry cannot
 * overtake it, since both lock the lease row first.
 *
 * @module
 */
import type { Logger } from "../../core/log.ts";
import { NotActiveError, toErrorData } from "../../core/errors.ts";
import type { ChangeSet, RowImage } from "./change_capture.ts";
import type { Lease } from "./lease.ts";
import type { Transaction } from "./pg_schema.ts";
import { type PgSession, StalledError } from "./pg_session.ts";
import { type MirroredTable, quoted } from "./sqlite_tables.ts";

/** Why the mirror stopped: the lease is another Router's, or was not renewed in time. */
export class FencedError extends NotActiveError {}

/**
 * SQLSTATEs of a failure that a retry may outlive: the classes of connection, shutdown,
 * resources and serialization, and the server ending a transaction left idle too long
 * (25P03: its client was slow to commit; see `#send`).
 */
const PASSING = /^(08|57|53|40|25P03)/;

/**
 * Whether a retry may outlive `error`: anything but an error PostgreSQL gave for the
 * writes themselves (a connection that broke, a server going away, count as passing).
 */
export function mayPass(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== "PostgresError") return true;
  return PASSING.test(String((error as { code?: unknown }).code));
}

/** Statements of one mirrored table, over a JSON array of row images. */
interface TableWrites {
  upsert: string;
  delete: string;
  key: readonly string[];
}

interface Group {
  changes: ChangeSet;
  /** When its first change was queued (monotonic ms). */
  since: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const RETRY_MS = 200;
/** The shortest deadline of one transaction (a large group takes a while to send). */
const MIN_ATTEMPT_MS = 2_000;

/** Writes the store's changes to PostgreSQL, a group at a time. */
export class StoreMirror {
  readonly #db: PgSession;
  readonly #lease: Lease;
  readonly #log: Logger;
  readonly #writes = new Map<string, TableWrites>();
  readonly #order: string[];
  #next: Group | undefined;
  #inFlight: Group | undefined;
  #fenced: FencedError | undefined;
  #running = false;
  /** Transactions committed, for metrics and tests. */
  commits = 0;
  /** Attempts that failed or stalled and were sent again. */
  retries = 0;

  /** How long the oldest change not yet in PostgreSQL has waited, ms. */
  get lagMs(): number {
    const oldest = this.#inFlight ?? this.#next;
    return oldest ? performance.now() - oldest.since : 0;
  }

  readonly #ready: Promise<void>;

  /** `ready`: the PostgreSQL tables exist (awaited before the first transaction). */
  constructor(
    db: PgSession,
    lease: Lease,
    tables: readonly MirroredTable[],
    log: Logger,
    ready: Promise<void>,
  ) {
    this.#ready = ready;
    ready.catch(() => {}); // Seen by the first transaction.
    this.#db = db;
    this.#lease = lease;
    this.#log = log;
    for (const table of tables) this.#writes.set(table.name, writesOf(table));
    this.#order = tables.map((table) => table.name);
  }

  /**
   * Queues one commit's changes; the promise resolves once they (and every commit
   * before) are in PostgreSQL. Undefined when nothing is queued or in flight and
   * `changes` is empty: there is nothing to wait for.
   */
  enqueue(changes: ChangeSet): Promise<void> | undefined {
    if (this.#fenced) return Promise.reject(this.#fenced);
    if (changes.size === 0) return (this.#next ?? this.#inFlight)?.done;
    const group = this.#next ??= newGroup();
    for (const [table, rows] of changes) {
      const into = group.changes.get(table);
      if (!into) group.changes.set(table, rows);
      else for (const [key, row] of rows) into.set(key, row);
    }
    if (!this.#running) void this.#run();
    return group.done;
  }

  /** Resolves once nothing is queued or in flight (whether it committed or was refused). */
  async idle(): Promise<void> {
    while (this.#running) {
      await (this.#next ?? this.#inFlight)?.done.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  /** Refuses everything queued and everything after (the Router is fenced). */
  fence(error: FencedError): void {
    this.#fenced ??= error;
    for (const group of [this.#inFlight, this.#next]) group?.reject(this.#fenced);
    this.#next = undefined;
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      await this.#ready;
    } catch (error) {
      this.fence(new FencedError(`Could not make the PostgreSQL tables: ${String(error)}`));
    }
    while (this.#next && !this.#fenced) {
      const group = this.#inFlight = this.#next;
      this.#next = undefined;
      try {
        await this.#write(group.changes);
        this.commits++;
        group.resolve();
      } catch (error) {
        this.fence(error instanceof FencedError ? error : new FencedError(String(error)));
      }
      this.#inFlight = undefined;
    }
    this.#running = false;
  }

  /** One transaction, retried while the lease is held. */
  async #write(changes: ChangeSet): Promise<void> {
    for (let attempt = 1;; attempt++) {
      if (this.#fenced) throw this.#fenced;
      if (!this.#lease.held()) throw new FencedError("The lease was not renewed in time");
      try {
        return await this.#transaction(changes);
      } catch (error) {
        if (error instanceof FencedError) throw error;
        this.retries++;
        if (error instanceof StalledError) {
          this.#log.warn(
            "PostgreSQL commit stalled (attempt {attempt}), retrying on a new client",
            {
              attempt,
            },
          );
          continue;
        }
        if (!mayPass(error)) {
          throw new FencedError(`PostgreSQL refused the mirror's writes: ${String(error)}`);
        }
        this.#log.warn("PostgreSQL commit failed (attempt {attempt}), retrying: {error}", {
          attempt,
          error: toErrorData(error).message,
        });
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  async #transaction(changes: ChangeSet): Promise<void> {
    const deadlineMs = Math.max(MIN_ATTEMPT_MS, this.#lease.ttlMs);
    await this.#db.within(deadlineMs, (sql) => sql.begin((tx) => this.#send(tx, changes)));
  }

  /** The lease check and the writes, sent together: rolled back when the lease is not ours. */
  async #send(tx: Transaction, changes: ChangeSet): Promise<void> {
    // A transaction whose client went silent holds the lease row's lock, and so
    // holds up the renewals, until the server ends it: soon, well within the lease.
    const idleMs = String(Math.max(100, Math.floor(this.#lease.ttlMs * 0.3)));
    const settings = tx`SELECT set_config('idle_in_transaction_session_timeout', ${idleMs}, true)`;
    const lease = tx`SELECT epoch FROM router_lease
      WHERE id = 1 AND holder = ${this.#lease.holder} AND epoch = ${this.#lease.epoch} FOR UPDATE`;
    const writes: Promise<unknown>[] = [];
    for (const name of this.#order) {
      const rows = changes.get(name);
      const table = this.#writes.get(name);
      if (!rows || !table) continue;
      const upserts: RowImage[] = [];
      const deletes: RowImage[] = [];
      for (const [key, row] of rows) {
        if (row) upserts.push(row);
        else deletes.push(keyImage(table.key, key));
      }
      if (deletes.length) writes.push(tx.unsafe(table.delete, [toJson(deletes)]));
      if (upserts.length) writes.push(tx.unsafe(table.upsert, [toJson(upserts)]));
    }
    const [, held] = await Promise.all([settings, lease, ...writes]);
    if (held.length !== 1) throw new FencedError("Another Router holds the lease");
  }
}

function newGroup(): Group {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  // A fenced group's waiters may all be gone; its refusal is not unhandled.
  promise.catch(() => {});
  return { changes: new Map(), since: performance.now(), done: promise, resolve, reject };
}

function writesOf(table: MirroredTable): TableWrites {
  const name = quoted(table.name);
  const key = table.key.map(quoted).join(", ");
  const from = `json_populate_recordset(NULL::${name}, $1::text::json)`;
  const rest = table.columns.filter((column) => !table.key.includes(column.name));
  const onConflict = rest.length === 0
    ? "DO NOTHING"
    : `DO UPDATE SET ${
      rest.map((column) => `${quoted(column.name)} = EXCLUDED.${quoted(column.name)}`).join(", ")
    }`;
  return {
    key: table.key,
    upsert: `INSERT INTO ${name} (${table.columns.map((c) => quoted(c.name)).join(", ")})
      SELECT ${table.columns.map((c) => quoted(c.name)).join(", ")} FROM ${from}
      ON CONFLICT (${key}) ${onConflict}`,
    delete: `DELETE FROM ${name} WHERE (${key}) IN (SELECT ${key} FROM ${from})`,
  };
}

/** A deleted row's key columns, from its key as the triggers wrote it (a JSON array). */
function keyImage(columns: readonly string[], key: string): RowImage {
  const values = JSON.parse(key) as Array<string | number>;
  return Object.fromEntries(columns.map((column, i) => [column, values[i] ?? null]));
}

/** Row images as JSON for `json_populate_recordset` (bytes as PostgreSQL's hex form). */
function toJson(rows: RowImage[]): string {
  return JSON.stringify(
    rows,
    (_key, value) =>
      value instanceof Uint8Array
        ? `\\x${Array.from(value, (byte) => byte.toString(16).padStart(2, "0")).join("")}`
        : value,
  );
}
