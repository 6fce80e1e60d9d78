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
  readonly #open: () => Sql;
  #sql: Sql;
  /** Clients replaced after a stall, for logs and tests. */
  replaced = 0;

  /** `open`: makes a new client (it connects lazily, at its first query). */
  constructor(open: () => Sql) {
    this.#open = open;
    this.#sql = open();
  }

  /** The client now (for calls without a deadline: migrations, loading the state). */
  get sql(): Sql {
    return this.#sql;
  }

  /**
   * Runs `work` on the client. When it has not settled within `ms`, the client's
   * connections are destroyed (its pending queries reject and none is sent later), a
   * new client takes its place, and this throws {@linkcode StalledError}.
   */
  async within<T>(ms: number, work: (sql: Sql) => Promise<T>): Promise<T> {
    const sql = this.#sql;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StalledError(`No answer from PostgreSQL in ${ms} ms`)),
        ms,
      );
    });
    try {
      return await Promise.race([work(sql), stalled]);
    } catch (error) {
      if (error instanceof StalledError && this.#sql === sql) {
        this.#sql = this.#open();
        this.replaced++;
        // Not awaited: ending a client whose connection broke can itself hang
        // (porsager/postgres#1097); a zero timeout destroys its connections at once.
        void sql.end({ timeout: 0 }).catch(() => {});
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
