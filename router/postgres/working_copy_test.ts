import { assert, assertEquals } from "../../tests/_assert.ts";
import type { SchemaEntry } from "./pg_schema.ts";
import { DatabaseSync } from "node:sqlite";
import { checkedEntry, schemaOf } from "./working_copy.ts";

Deno.test("the stored schema is taken only as CREATEs of tables and indexes, one statement each", () => {
  const db = new DatabaseSync(":memory:");
  try {
    db.exec(`CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER); CREATE INDEX t_n ON t (n);
      PRAGMA user_version = 3;`);
    const entries = schemaOf((sql) => db.prepare(sql));
    assertEquals(entries.map((e) => [e.kind, e.name]), [
      ["table", "t"],
      ["index", "t_n"],
      ["user_version", "user_version"],
    ]);
    assertEquals(entries[0]!.sql.startsWith("CREATE TABLE IF NOT EXISTS t "), true);
    assertEquals(entries[2]!.sql, "3");
  } finally {
    db.close();
  }
  for (
    const [kind, sql] of [
      ["table", "ATTACH DATABASE '/tmp/x' AS x"],
      ["table", "CREATE TABLE IF NOT EXISTS a (x); ATTACH DATABASE '/tmp/x' AS x"],
      ["index", "CREATE TABLE IF NOT EXISTS a (x)"],
      ["table", "PRAGMA writable_schema = 1"],
      ["user_version", "1; DROP TABLE pipelines"],
      ["trigger", "CREATE TRIGGER IF NOT EXISTS x"],
    ] as const
  ) {
    // A row as a hostile database may hand it over: its kind is whatever it says.
    const entry = { name: "x", kind, sql } as SchemaEntry;
    let refused = "";
    try {
      checkedEntry(entry);
    } catch (error) {
      refused = String(error);
    }
    assert(refused.includes("is not one the Router makes"), `${kind}: ${sql} was taken`);
  }
});
