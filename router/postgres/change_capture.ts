/**
 * What each SQLite transaction changed, for the PostgreSQL mirror: triggers on every
 * mirrored table note the key of each row inserted, updated or deleted in
 * `_pg_changes`, and at the commit
 * {@linkcode ChangeCapture.take} reads each noted row as it is now: a row image to
 * upsert, or a delete when it is gone. Installed only with PostgreSQL, so the SQLite
 * store alone has no trigger on its hot path.
 *
 * @module
 */
import type { StatementSync } from "node:sqlite";
import { CHANGES_TABLE, type MirroredTable, quoted, ROWID } from "./sqlite_tables.ts";

/** A row as written to PostgreSQL: column name to value. */
export type RowImage = Record<string, string | number | null | Uint8Array>;

/** The changes of one table: by key (as JSON), the row now, or null when deleted. */
export type TableChanges = Map<string, RowImage | null>;

/** Changes of several tables, by table name. */
export type ChangeSet = Map<string, TableChanges>;

type Prepare = (sql: string) => StatementSync;

/** The triggers and reads of one store's capture. */
export class ChangeCapture {
  readonly #take: StatementSync;
  readonly #images = new Map<string, { statement: StatementSync; table: MirroredTable }>();

  /** Installs the change table and each table's triggers (on the store's connection). */
  constructor(exec: (sql: string) => void, prepare: Prepare, tables: readonly MirroredTable[]) {
    exec(
      // No key: an outer statement's conflict policy (an upsert's) overrides a trigger's
      // OR IGNORE, so a unique key here would fail the upsert. `take` keeps each row once.
      `CREATE TABLE IF NOT EXISTS ${CHANGES_TABLE} (tbl TEXT NOT NULL, k TEXT NOT NULL)`,
    );
    for (const table of tables) {
      exec(triggersOf(table));
      const columns = table.columns.map((column) =>
        column.name === ROWID ? `rowid AS ${ROWID}` : quoted(column.name)
      );
      const where = table.byRowid
        ? "rowid = ?"
        : table.key.map((name) => `${quoted(name)} = ?`).join(" AND ");
      this.#images.set(table.name, {
        table,
        statement: prepare(
          `SELECT ${columns.join(", ")} FROM ${quoted(table.name)} WHERE ${where}`,
        ),
      });
    }
    this.#take = prepare(`DELETE FROM ${CHANGES_TABLE} RETURNING tbl, k`);
  }

  /** The rows changed since the last call, as they are now (call inside the transaction). */
  take(): ChangeSet {
    const changes: ChangeSet = new Map();
    for (const { tbl, k } of this.#take.all() as Array<{ tbl: string; k: string }>) {
      const image = this.#images.get(tbl);
      if (!image || changes.get(tbl)?.has(k)) continue;
      const key = JSON.parse(k) as Array<string | number>;
      const row = image.statement.get(...key) as RowImage | undefined;
      let table = changes.get(tbl);
      if (!table) changes.set(tbl, table = new Map());
      table.set(k, row ? { ...row } : null);
    }
    return changes;
  }
}

/** The key of a row of `table` as JSON, from `NEW` or `OLD`. */
function keyOf(table: MirroredTable, row: "NEW" | "OLD"): string {
  const parts = table.byRowid
    ? [`${row}.rowid`]
    : table.key.map((name) => `${row}.${quoted(name)}`);
  return `json_array(${parts.join(", ")})`;
}

function triggersOf(table: MirroredTable): string {
  const name = (op: string) => quoted(`_pg_${op}_${table.name}`);
  const on = quoted(table.name);
  const note = (row: "NEW" | "OLD") =>
    `INSERT INTO ${CHANGES_TABLE} (tbl, k) VALUES ('${table.name.replaceAll("'", "''")}', ${
      keyOf(table, row)
    });`;
  return `
CREATE TRIGGER IF NOT EXISTS ${name("i")} AFTER INSERT ON ${on} BEGIN ${note("NEW")} END;
CREATE TRIGGER IF NOT EXISTS ${name("u")} AFTER UPDATE ON ${on} BEGIN ${note("OLD")} ${
    note("NEW")
  } END;
CREATE TRIGGER IF NOT EXISTS ${name("d")} AFTER DELETE ON ${on} BEGIN ${note("OLD")} END;`;
}
