/**
 * The PostgreSQL side's schema: the connection, versioned migrations of the
 * Router's own tables (`schema_migrations`, the lease, the copy of SQLite's schema),
 * and the mirrored tables, made and widened from SQLite's schema at every takeover.
 * All of it runs under one transaction-scoped advisory lock, so Routers starting
 * together do not race.
 *
 * @module
 */
import postgres from "postgres";
import type { MirroredTable } from "./sqlite_tables.ts";
import { quoted } from "./sqlite_tables.ts";

/** A PostgreSQL client (npm:postgres). */
export type Sql = postgres.Sql;
/** One transaction of a client. */
export type Transaction = postgres.TransactionSql;
/** A client or one of its transactions. */
export type Queries = postgres.Sql | postgres.TransactionSql;

/** The advisory lock taken by migrations and schema changes (any fixed number). */
const SCHEMA_LOCK = 0x70697065;

/** The Router's own tables, by version; applied in order, each once. */
const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
CREATE TABLE router_lease (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  holder TEXT,
  epoch BIGINT NOT NULL,
  endpoint TEXT,
  expires_at TIMESTAMPTZ NOT NULL
);
INSERT INTO router_lease (id, holder, epoch, endpoint, expires_at)
  VALUES (1, NULL, 0, NULL, '-infinity');
CREATE TABLE mirror_schema (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  position INTEGER NOT NULL,
  sql TEXT
);`,
  },
];

/**
 * Opens a client: BIGINTs read as numbers (the store's are epoch ms and counters).
 * `name`: its sessions' `application_name` (how `PgSession` finds them again).
 */
export function connect(url: string, max = 1, name = "pipelinin"): Sql {
  return postgres(url, {
    max,
    onnotice: () => {},
    connect_timeout: 5,
    connection: { application_name: name },
    // A session that is gone is noticed by the next query; no idle timeout of our own.
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (value: number) => String(value),
        parse: (value: string) => Number(value),
      },
    },
  });
}

/** Applies the migrations not yet applied; returns the versions applied now. */
export async function migrate(sql: Sql): Promise<number[]> {
  return await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`;
    const done = new Set(
      (await tx<{ version: number }[]>`SELECT version FROM schema_migrations`).map((r) =>
        r.version
      ),
    );
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      await tx.unsafe(migration.sql);
      await tx`INSERT INTO schema_migrations (version) VALUES (${migration.version})`;
      applied.push(migration.version);
    }
    return applied;
  });
}

/** One entry of SQLite's schema (a table or an index), as kept in `mirror_schema`. */
export interface SchemaEntry {
  name: string;
  kind: "table" | "index" | "user_version";
  sql: string;
}

/** SQLite's schema as the last active Router left it, in the order to make it. */
export async function readSchema(sql: Queries): Promise<SchemaEntry[]> {
  return await sql<SchemaEntry[]>`SELECT name, kind, sql FROM mirror_schema ORDER BY position`;
}

/**
 * Makes the mirrored tables (and widens them with columns SQLite has and they lack),
 * and keeps SQLite's schema beside them, so the next Router makes the same working copy.
 */
export async function syncTables(
  sql: Sql,
  tables: readonly MirroredTable[],
  schema: readonly SchemaEntry[],
): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`;
    for (const table of tables) {
      const name = quoted(table.name);
      const columns = table.columns.map((column) => `${quoted(column.name)} ${column.type}`);
      await tx.unsafe(
        `CREATE TABLE IF NOT EXISTS ${name} (${columns.join(", ")}, PRIMARY KEY (${
          table.key.map(quoted).join(", ")
        }))`,
      );
      for (const column of table.columns) {
        await tx.unsafe(
          `ALTER TABLE ${name} ADD COLUMN IF NOT EXISTS ${quoted(column.name)} ${column.type}`,
        );
      }
      for (const unique of table.uniques) {
        const index = quoted(`${table.name}__unique__${unique.join("__")}`.slice(0, 63));
        await tx.unsafe(
          `CREATE UNIQUE INDEX IF NOT EXISTS ${index} ON ${name} (${
            unique.map(quoted).join(", ")
          })`,
        );
      }
    }
    await tx`DELETE FROM mirror_schema`;
    for (const [position, entry] of schema.entries()) {
      await tx`INSERT INTO mirror_schema (name, kind, position, sql)
        VALUES (${entry.name}, ${entry.kind}, ${position}, ${entry.sql})`;
    }
  });
}
