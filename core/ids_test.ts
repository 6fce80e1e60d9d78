import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { uuidv7 } from "./ids.ts";

Deno.test("uuidv7 is a version 7 UUID carrying its time", () => {
  const at = Date.UTC(2026, 10, 29, 12, 0, 0, 123);
  const id = uuidv7(at);
  assert(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id), id);
  assertEquals(parseInt(id.replaceAll("-", "").slice(0, 12), 16), at);
});

Deno.test("uuidv7 ids sort by time and do not repeat", () => {
  const ids = Array.from({ length: 1000 }, (_, n) => uuidv7(1_700_000_000_000 + n));
  assertEquals([...ids].sort(), ids);
  assertEquals(new Set(Array.from({ length: 10_000 }, () => uuidv7())).size, 10_000);
});
