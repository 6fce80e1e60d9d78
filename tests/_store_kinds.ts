/**
 * Test helper: the Router's store on each kind, for one suite of cases run on both.
 * `sqlite` is the embedded store in a temp folder; `postgres` is a working copy over a
 * real PostgreSQL, its commits mirrored under a lease, and every reopen a fresh
 * working copy loaded from PostgreSQL (so what a case reads back after `reopen` came
 * through the mirror).
 *
 * @module
 */
import { getLogger } from "../core/log.ts";
import { PipelineStore } from "../router/hub/store.ts";
import { ScheduleStore } from "../router/hub/schedules/schedule_store.ts";
import { PostgresCommits } from "../router/postgres/commits.ts";
import { Lease } from "../router/postgres/lease.ts";
import { connect, migrate, type Sql } from "../router/postgres/pg_schema.ts";
import { PgSession } from "../router/postgres/pg_session.ts";
import { loadWorkingCopy } from "../router/postgres/working_copy.ts";
import { TempPostgres } from "./_postgres.ts";
import { removeStoreDir } from "./_helpers.ts";

/** A store open on one kind, with the modules that make tables of their own. */
export interface OpenStore {
  store: PipelineStore;
  schedules: ScheduleStore;
  /** Commits, and with PostgreSQL waits until the mirror has. */
  commit(): Promise<void>;
  /** PostgreSQL transactions the mirror committed (0 on SQLite). */
  mirrored(): number;
}

/** One kind of store under test. */
export interface StoreKind extends AsyncDisposable {
  readonly name: string;
  /** Opens the store (closing the one open): a restart of the Router. */
  reopen(): Promise<OpenStore>;
}

/** The embedded SQLite store. */
export async function sqliteKind(): Promise<StoreKind> {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-store-" });
  let open: PipelineStore | undefined;
  return {
    name: "sqlite",
    reopen() {
      open?.close();
      const store = open = PipelineStore.open(dir);
      const schedules = new ScheduleStore(store);
      return Promise.resolve({
        store,
        schedules,
        commit: () => Promise.resolve(store.commit()),
        mirrored: () => 0,
      });
    },
    async [Symbol.asyncDispose]() {
      try {
        open?.close();
      } finally {
        await removeStoreDir(dir);
      }
    },
  };
}

/** The store on PostgreSQL: a working copy, reloaded from PostgreSQL at each reopen. */
export async function postgresKind(): Promise<StoreKind & { pg: TempPostgres; sql: Sql }> {
  const pg = await TempPostgres.start();
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-store-" });
  const db = new PgSession((name) => connect(pg.url, 1, name));
  const leaseDb = new PgSession((name) => connect(pg.url, 1, name));
  const sql = db.sql;
  let open: PipelineStore | undefined;
  let lease: Lease | undefined;
  try {
    await migrate(sql);
  } catch (error) {
    await Promise.all([db.end(), leaseDb.end()]);
    await pg[Symbol.asyncDispose]();
    throw error;
  }
  const log = getLogger("router");
  return {
    name: "postgres",
    pg,
    sql,
    async reopen() {
      open?.close();
      await lease?.release();
      lease = new Lease(leaseDb, {
        holder: `test-${crypto.randomUUID()}`,
        endpoint: "test",
        ttlMs: 60_000,
        log,
      });
      await lease.acquire(new AbortController().signal);
      await loadWorkingCopy(sql, `${dir}/working`);
      const store = open = PipelineStore.open(`${dir}/working`);
      const schedules = new ScheduleStore(store);
      const commits = new PostgresCommits(db, lease, log, () => {});
      commits.attach(store);
      return {
        store,
        schedules,
        async commit() {
          store.commit();
          await commits.committed();
        },
        mirrored: () => commits.commits,
      };
    },
    async [Symbol.asyncDispose]() {
      try {
        open?.close();
      } finally {
        await lease?.release().catch(() => {});
        await Promise.all([db.end(), leaseDb.end()]);
        await pg[Symbol.asyncDispose]();
        await removeStoreDir(dir);
      }
    },
  };
}

/** Both kinds, for `for (const make of STORE_KINDS)`. */
export const STORE_KINDS: ReadonlyArray<readonly [string, () => Promise<StoreKind>]> = [
  ["sqlite", sqliteKind],
  ["postgres", postgresKind],
];
