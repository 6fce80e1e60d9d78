/**
 * A PostgreSQL client that is replaced when a call does not settle in time. The
 * driver (npm:postgres 3.4.9) can leave a query pending for good after it lost its
 * connection during a server restart (porsager/postgres#1193): a Router would then
 * hold its answers forever on a lease it still renews. A call given a deadline that
 * passes destroys the client's connections, so nothing of it reaches the server
 * later, and the next call opens a new client.
 *
 * @module
 */
import type { Sql } from "./pg_schema.ts";

/** A call on PostgreSQL did not settle within its deadline (the client was replaced). */
export class StalledError extends Error {
  override name = "StalledError";
}

/** One PostgreSQL client at a time, replaced after a call stalls. */
export class PgSession {
  readonly #open: (name: string) => Sql;
  readonly #prefix = `pipelinin-${crypto.randomUUID().slice(0, 8)}`;
  #sql: Sql;
  #name = "";
  /** Clients replaced after a stall, for logs and tests. */
  replaced = 0;

  /**
   * `open`: makes a new client (it connects lazily, at its first query) whose sessions
   * carry `name` as their `application_name`.
   */
  constructor(open: (name: string) => Sql) {
    this.#open = open;
    this.#sql = this.#client();
  }

  #client(): Sql {
    this.#name = `${this.#prefix}-${this.replaced}`;
    return this.#open(this.#name);
  }

  /** The client now (for calls without a deadline: migrations and schema changes). */
  get sql(): Sql {
    return this.#sql;
  }

  /**
   * Runs `work` on the client. When it has not settled within `ms`, the client's
   * connections are destroyed (its pending queries reject and none is sent later), a
   * new client takes its place, and this throws {@linkcode StalledError}.
   */
  within<T>(ms: number, work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.watched(ms, (sql) => work(sql));
  }

  /**
   * As {@linkcode within}, for a long call that reports its progress: `alive()` gives
   * it `idleMs` more, from now. It stalls once `idleMs` pass without progress.
   */
  async watched<T>(idleMs: number, work: (sql: Sql, alive: () => void) => Promise<T>): Promise<T> {
    const sql = this.#sql;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stall: (error: StalledError) => void = () => {};
    const stalled = new Promise<never>((_, reject) => stall = reject);
    const alive = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => stall(new StalledError(`No answer from PostgreSQL in ${idleMs} ms`)),
        idleMs,
      );
    };
    alive();
    try {
      return await Promise.race([work(sql, alive), stalled]);
    } catch (error) {
      if (error instanceof StalledError && this.#sql === sql) {
        const gone = this.#name;
        this.replaced++;
        this.#sql = this.#client();
        // Not awaited: ending a client whose connection broke can itself hang
        // (porsager/postgres#1097); a zero timeout destroys its connections at once.
        void sql.end({ timeout: 0 }).catch(() => {});
        // Its server side may live on (a black hole has no FIN), holding its locks
        // (a load's share locks hold up the schema changes of the next active): end
        // it, first thing on the new client.
        void this.#sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = ${gone}`.catch(() => {});
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the client, waiting at most a second for its queries. */
  async end(): Promise<void> {
    await this.#sql.end({ timeout: 1 });
  }
}
