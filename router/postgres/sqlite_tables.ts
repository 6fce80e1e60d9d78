/**
 * The tables of the Router's SQLite store as the PostgreSQL mirror sees them, read
 * from SQLite's own schema (`PRAGMA table_info`, `index_list`): every table a module
 * makes is mirrored, with no PostgreSQL form written by hand. A table with no
 * primary key is keyed by its rowid, kept in PostgreSQL as the column `_rowid`.
 *
 * @module
 */
import type { StatementSync } from "node:sqlite";

/** The PostgreSQL types a column can take (from SQLite's type affinity). */
export type PgType = "BIGINT" | "DOUBLE PRECISION" | "TEXT" | "BYTEA";

/** One mirrored column. */
export interface MirroredColumn {
  readonly name: string;
  readonly type: PgType;
}

/** One mirrored table. */
export interface MirroredTable {
  readonly name: string;
  /** Its columns, `_rowid` first when keyed by rowid. */
  readonly columns: readonly MirroredColumn[];
  /** The key's columns (`["_rowid"]` when keyed by rowid). */
  readonly key: readonly string[];
  /** Keyed by SQLite's rowid (no primary key of its own). */
  readonly byRowid: boolean;
  /** Unique constraints and full (not partial) unique indexes, by their columns. */
  readonly uniques: readonly (readonly string[])[];
}

/** The rowid column of tables with no primary key. */
export const ROWID = "_rowid";
/** The table the change triggers write to; never mirrored. */
export const CHANGES_TABLE = "_pg_changes";

type Prepare = (sql: string) => StatementSync;
type Row = Record<string, unknown>;

/** SQLite's type affinity rules (https://sqlite.org/datatype3.html 3.1), as PostgreSQL types. */
export function pgTypeOf(declared: string): PgType {
  const type = declared.toUpperCase();
  if (type.includes("INT")) return "BIGINT";
  if (/CHAR|CLOB|TEXT/.test(type)) return "TEXT";
  if (type.includes("BLOB") || type === "") return "BYTEA";
  if (/REAL|FLOA|DOUB/.test(type)) return "DOUBLE PRECISION";
  // NUMERIC affinity: the Router declares none; text keeps any value as written.
  return "TEXT";
}

/** Quotes an identifier for SQLite and PostgreSQL alike. */
export function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The store's tables, in name order, but SQLite's own and the change table. */
export function readTables(prepare: Prepare): MirroredTable[] {
  const names = (prepare(
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
     AND name <> '${CHANGES_TABLE}' ORDER BY name`,
  ).all() as Row[]).map((row) => String(row.name));
  return names.map((name) => readTable(prepare, name));
}

function readTable(prepare: Prepare, name: string): MirroredTable {
  const info = prepare(`PRAGMA table_info(${quoted(name)})`).all() as Row[];
  const columns: MirroredColumn[] = info.map((column) => ({
    name: String(column.name),
    type: pgTypeOf(String(column.type ?? "")),
  }));
  const key = info
    .filter((column) => Number(column.pk) > 0)
    .sort((a, b) => Number(a.pk) - Number(b.pk))
    .map((column) => String(column.name));
  const byRowid = key.length === 0;
  if (byRowid) {
    if (columns.some((column) => column.name === ROWID)) {
      throw new Error(`Table "${name}" has a column "${ROWID}" and no primary key`);
    }
    columns.unshift({ name: ROWID, type: "BIGINT" });
    key.push(ROWID);
  }
  const uniques: string[][] = [];
  for (const index of prepare(`PRAGMA index_list(${quoted(name)})`).all() as Row[]) {
    if (Number(index.unique) !== 1 || index.origin === "pk" || Number(index.partial) === 1) {
      continue;
    }
    const cols = (prepare(`PRAGMA index_info(${quoted(String(index.name))})`).all() as Row[])
      .sort((a, b) => Number(a.seqno) - Number(b.seqno))
      .map((col) => col.name);
    // An index on an expression has no column name: it is not mirrored.
    if (cols.every((col) => typeof col === "string")) uniques.push(cols as string[]);
  }
  return { name, columns, key, byRowid, uniques };
}
