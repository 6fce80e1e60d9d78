import { assertEquals } from "../tests/_assert.ts";
import { MAX_TIMER_DELAY, setLongTimeout, timerDelay } from "./timers.ts";
import { HeadTimer } from "./head_timer.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("setLongTimeout holds a delay past 2^31-1 ms instead of firing at once", async () => {
  let fired = 0;
  const long = setLongTimeout(() => fired++, 3e9);
  const never = setLongTimeout(() => fired++, Infinity);
  await sleep(50);
  assertEquals(fired, 0);
  long.clear();
  never.clear();
});

Deno.test("setLongTimeout fires a short delay once, and clear stops it", async () => {
  let fired = 0;
  setLongTimeout(() => fired++, 5);
  setLongTimeout(() => fired += 10, 5).clear();
  await sleep(40);
  assertEquals(fired, 1);
});

Deno.test("timerDelay clamps to what one timer holds", () => {
  assertEquals(timerDelay(-5), 0);
  assertEquals(timerDelay(10), 10);
  assertEquals(timerDelay(3e9), MAX_TIMER_DELAY);
});

Deno.test("a head timer with a deadline past 2^31-1 ms neither fires nor spins", async () => {
  let expired = 0;
  let asked = 0;
  const at = performance.now() + 3e9;
  const timer = new HeadTimer(() => (asked++, at), () => expired++);
  timer.update();
  await sleep(60);
  timer.cancel();
  assertEquals(expired, 0);
  // Unclamped, the overflowed timer fires every ms and asks again each time.
  assertEquals(asked, 1);
});
