import { assert, assertEquals } from "../tests/_assert.ts";
import { until } from "../tests/_helpers.ts";
import { Deadlines } from "./deadlines.ts";

Deno.test("deadlines expire what was not deleted, soonest first, never early, on one timer", async () => {
  const deadlines = new Deadlines<string>();
  const expired: string[] = [];
  const start = performance.now();
  const at = (name: string, ms: number) =>
    deadlines.add(name, ms, () => {
      assert(performance.now() - start >= ms, `${name} expired early`);
      expired.push(name);
    });
  try {
    at("long", 60_000);
    at("late", 80);
    at("soon", 20); // Sooner than the armed one: re-arms.
    at("answered", 10);
    assert(deadlines.delete("answered"));
    // A callback may add another deadline, which is kept too.
    deadlines.add("chained", 30, () => {
      expired.push("chained");
      at("after", 0);
    });
    await until(() => expired.length === 4, "four expiries");
    assertEquals(expired, ["soon", "chained", "after", "late"]);
    assertEquals(deadlines.size, 1);
    assert(!deadlines.delete("soon"), "an expired entry is gone");
  } finally {
    deadlines.clear();
  }
  assertEquals(deadlines.size, 0);
});
