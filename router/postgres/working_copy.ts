/**
 * The Router's SQLite working copy of the PostgreSQL state: made fresh at each
 * takeover, from SQLite's schema as the last active Router kept it in PostgreSQL,
 * and filled with PostgreSQL's rows read in one snapshot. The hub then runs on it
 * as on its own store, synchronously.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { type Queries, readSchema, type SchemaEntry, type Sql } from "./pg_schema.ts";
import { CHANGES_TABLE, quoted, readTables, ROWID } from "./sqlite_tables.ts";

/** Rows read from PostgreSQL per round trip while loading. */
const LOAD_CHUNK = 2_000;
/** The longest schema statement taken from PostgreSQL, characters. */
const MAX_SCHEMA_SQL = 65_536;
const SCHEMA_STATEMENT = /^CREATE (TABLE|INDEX|UNIQUE INDEX) IF NOT EXISTS /;

/**
 * A schema entry read from PostgreSQL, checked before SQLite runs it: one CREATE of
 * a table or an index (no `;`, so never a second statement, an ATTACH or a PRAGMA).
 *
 * @throws {Error} naming the entry, when it is anything else.
 */
export function checkedEntry(entry: SchemaEntry): SchemaEntry {
  const { name, kind, sql } = entry;
  const ok = kind === "user_version"
    ? /^\d{1,9}$/.test(sql)
    : (kind === "table" || kind === "index") && typeof sql === "string" &&
      sql.length <= MAX_SCHEMA_SQL && !sql.includes(";") && SCHEMA_STATEMENT.test(sql) &&
      sql.includes(kind === "table" ? " TABLE " : " INDEX ");
  if (!ok) throw new Error(`The stored schema entry "${String(name)}" is not one the Router makes`);
  return entry;
}

/**
 * Makes `<dir>/pipelinin.db` anew from PostgreSQL (after the lease is taken: every
 * write of an older active is then either in it or refused). Returns rows loaded;
 * `alive` is called after each chunk of rows (a watchdog's progress).
 */
export async function loadWorkingCopy(
  sql: Sql,
  dir: string,
  alive: () => void = () => {},
): Promise<number> {
  await Deno.remove(dir, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  Deno.mkdirSync(dir, { recursive: true });
  const db = new DatabaseSync(`${dir}/pipelinin.db`);
  try {
    db.exec("PRAGMA journal_mode = WAL");
    return await sql.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", async (tx) => {
      const schema = (await readSchema(tx)).map(checkedEntry);
      for (const entry of schema) if (entry.kind === "table") db.exec(entry.sql);
      let rows = 0;
      db.exec("BEGIN");
      for (const table of readTables((text) => db.prepare(text))) {
        const names = table.columns.map((column) => column.name);
        const insert = db.prepare(
          `INSERT INTO ${quoted(table.name)} (${
            names.map((name) => (name === ROWID ? "rowid" : quoted(name))).join(", ")
          }) VALUES (${names.map(() => "?").join(", ")})`,
        );
        rows += await copyRows(tx, table.name, names, insert, alive);
      }
      db.exec("COMMIT");
      for (const entry of schema) {
        if (entry.kind === "index") db.exec(entry.sql);
        if (entry.kind === "user_version") db.exec(`PRAGMA user_version = ${Number(entry.sql)}`);
      }
      return rows;
    });
  } finally {
    db.close();
  }
}

async function copyRows(
  tx: Queries,
  table: string,
  names: string[],
  insert: StatementSync,
  alive: () => void,
): Promise<number> {
  const exists = await tx`SELECT to_regclass(${quoted(table)}) IS NOT NULL AS present`;
  if (!exists[0]?.present) return 0;
  let rows = 0;
  const query = tx.unsafe(`SELECT ${names.map(quoted).join(", ")} FROM ${quoted(table)}`);
  for await (const chunk of query.cursor(LOAD_CHUNK)) {
    for (const row of chunk) {
      insert.run(...names.map((name) => sqliteValue(row[name])));
      rows++;
    }
    alive();
  }
  return rows;
}

function sqliteValue(value: unknown): string | number | null | Uint8Array {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" || typeof value === "string") return value;
  if (value instanceof Uint8Array) return value;
  throw new TypeError(`A stored value of type ${typeof value} cannot be loaded`);
}

/**
 * SQLite's schema (tables and indexes, not the mirror's triggers and change table)
 * and its `user_version`, to keep in PostgreSQL.
 */
export function schemaOf(prepare: (sql: string) => StatementSync): SchemaEntry[] {
  const rows = prepare(
    `SELECT type, name, sql FROM sqlite_master
     WHERE type IN ('table', 'index') AND sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
     AND tbl_name <> '${CHANGES_TABLE}' ORDER BY type = 'index', rowid`,
  ).all() as Array<{ type: "table" | "index"; name: string; sql: string }>;
  const entries: SchemaEntry[] = rows.map((row) => ({
    name: row.name,
    kind: row.type,
    sql: row.sql.replace(/^CREATE (UNIQUE )?(TABLE|INDEX) /, "CREATE $1$2 IF NOT EXISTS "),
  }));
  const version = prepare("PRAGMA user_version").get() as { user_version: number };
  entries.push({ name: "user_version", kind: "user_version", sql: String(version.user_version) });
  // What the next Router will accept: a schema it would refuse fails here, at once.
  return entries.map(checkedEntry);
}
