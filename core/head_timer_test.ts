import { assert, assertEquals } from "../tests/_assert.ts";
import { until } from "../tests/_helpers.ts";
import { HeadTimer } from "./head_timer.ts";

Deno.test("a head timer expires each head at its own deadline, never before, and re-arms for a sooner one", async () => {
  const queue: { name: string; deadline: number }[] = [];
  const expired: string[] = [];
  const timer = new HeadTimer(() => queue[0]?.deadline, () => {
    const head = queue.shift()!;
    assert(performance.now() >= head.deadline, `${head.name} expired early`);
    expired.push(head.name);
  });
  try {
    const now = performance.now();
    // The first head is answered long before its deadline: the one after it must not
    // inherit it, nor wait for the first one's.
    queue.push({ name: "answered", deadline: now + 60_000 });
    timer.update();
    queue.shift();
    queue.push({ name: "soon", deadline: now + 30 }, { name: "later", deadline: now + 80 });
    timer.update();
    await until(() => expired.length === 2, "two expiries");
    assertEquals(expired, ["soon", "later"]);

    // Nothing to watch: nothing fires.
    timer.update();
    queue.push({ name: "gone", deadline: performance.now() + 20 });
    timer.update();
    queue.length = 0;
    timer.update();
    await new Promise((resolve) => setTimeout(resolve, 60));
    assertEquals(expired, ["soon", "later"]);
  } finally {
    timer.cancel();
  }
});
