import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { FunctionConfig, JsonObject } from "../../core/types.ts";
import { FunctionLimit } from "./limits.ts";
import { Registry } from "./registry.ts";
import { type Attempt, executionKey, Scheduler } from "./scheduler.ts";

/** A registry with one broker of `slots` slots (no prefetch) serving `functions`. */
function cluster(slots: number, functions: Record<string, FunctionConfig>) {
  const registry = new Registry();
  registry.addBroker({
    id: "b",
    address: new Uint8Array([98]),
    host: "h",
    pid: 1,
    slots,
    prefetch: 0,
    lastSeen: 0,
    since: 0,
  }, Object.entries(functions).map(([name, config]) => ({ name, config })));
  const timers: number[] = [];
  const clock = { now: 1_000_000 };
  const scheduler = new Scheduler(registry, {
    later: (ms) => timers.push(ms),
    agingMs: 1000,
    clock: () => clock.now,
  });
  return { registry, scheduler, timers, clock };
}

let n = 0;
function attempt(fn: string, priority = 0, input: JsonObject = {}): Attempt {
  return { pipelineId: `p${n++}`, jobId: fn, fn, input, attempt: 1, priority };
}

/** Dispatches at `now`; returns the started attempts' pipeline ids. */
function dispatch(scheduler: Scheduler, now = 1_000_000): Attempt[] {
  const started: Attempt[] = [];
  scheduler.dispatch(now, (a) => started.push(a));
  return started;
}

function finish(scheduler: Scheduler, a: Attempt): void {
  scheduler.finish(executionKey(a.pipelineId, a.jobId));
}

Deno.test("scheduler: a higher priority starts first, first in, first out within one", () => {
  const { scheduler } = cluster(1, { f: {}, g: {} });
  const low = [attempt("f"), attempt("f"), attempt("g")];
  const high = [attempt("g", 9), attempt("f", 9)];
  const mid = attempt("f", 5);
  for (const a of [...low, ...high, mid]) scheduler.enqueue(a);
  const order: string[] = [];
  for (let i = 0; i < 6; i++) {
    const [started] = dispatch(scheduler);
    order.push(started!.pipelineId);
    finish(scheduler, started!);
  }
  assertEquals(order, [...high, mid, ...low].map((a) => a.pipelineId));
});

Deno.test("scheduler: an old job ages a level per agingMs, so a stream of higher ones does not starve it", () => {
  const { scheduler, clock } = cluster(1, { f: {} });
  const now = clock.now;
  const old = attempt("f", 0);
  scheduler.enqueue(old);
  scheduler.enqueue(attempt("f", 5));
  // 4 s later (4 levels): the priority-5 job still goes first; 6 s later the old one ties
  // with a fresh priority-6 one, and is older.
  const [first] = dispatch(scheduler, now + 4000);
  assertEquals(first!.priority, 5);
  finish(scheduler, first!);
  clock.now = now + 6000;
  scheduler.enqueue(attempt("f", 6));
  const [second] = dispatch(scheduler, now + 6000);
  assertEquals(second!.pipelineId, old.pipelineId);
});

Deno.test("scheduler: concurrency holds a function's jobs in no slot while other functions pass", () => {
  const { scheduler } = cluster(4, { limited: { concurrency: 2 }, free: {} });
  for (let i = 0; i < 5; i++) scheduler.enqueue(attempt("limited"));
  for (let i = 0; i < 3; i++) scheduler.enqueue(attempt("free"));
  const started = dispatch(scheduler);
  assertEquals(started.filter((a) => a.fn === "limited").length, 2);
  assertEquals(started.filter((a) => a.fn === "free").length, 2, "the other two slots");
  assertEquals(scheduler.limitViews()[0]!.waiting, 3);
  finish(scheduler, started.find((a) => a.fn === "limited")!);
  finish(scheduler, started.find((a) => a.fn === "free")!);
  const next = dispatch(scheduler);
  assertEquals(next.map((a) => a.fn).sort(), ["free", "limited"]);
});

Deno.test("scheduler: concurrencyKey limits each key apart", () => {
  const { scheduler } = cluster(8, { keyed: { concurrency: 1, concurrencyKey: "customer" } });
  for (const customer of ["a", "a", "a", "b", "b", "c"]) {
    scheduler.enqueue(attempt("keyed", 0, { customer }));
  }
  const started = dispatch(scheduler);
  assertEquals(started.map((a) => a.input.customer).sort(), ["a", "b", "c"]);
  finish(scheduler, started.find((a) => a.input.customer === "a")!);
  assertEquals(dispatch(scheduler).map((a) => a.input.customer), ["a"]);
});

Deno.test("scheduler: rateLimit starts at most max per window and wakes when the window opens", () => {
  const { scheduler, timers } = cluster(8, { rated: { rateLimit: { max: 2, perMs: 1000 } } });
  for (let i = 0; i < 5; i++) scheduler.enqueue(attempt("rated"));
  const t0 = 1_000_000;
  const first = dispatch(scheduler, t0);
  assertEquals(first.length, 2);
  first.forEach((a) => finish(scheduler, a));
  assertEquals(dispatch(scheduler, t0 + 999).length, 0, "the window is still full");
  assertEquals(timers.length > 0, true, "a timer dispatches again");
  assertEquals(dispatch(scheduler, t0 + 1000).length, 2);
});

Deno.test("scheduler: a rate limit's starts carry over a restart", () => {
  const { scheduler } = cluster(8, { rated: { rateLimit: { max: 2, perMs: 1000 } } });
  const t0 = 1_000_000;
  scheduler.limits.restoreStarts([{ fn: "rated", at: t0 - 500 }, { fn: "rated", at: t0 - 400 }]);
  scheduler.enqueue(attempt("rated"));
  assertEquals(dispatch(scheduler, t0).length, 0);
  assertEquals(dispatch(scheduler, t0 + 500).length, 1);
});

Deno.test("scheduler: a job running when the Router stopped holds its limit until its late result", () => {
  const { scheduler } = cluster(8, { limited: { concurrency: 1 } });
  scheduler.limits.holdInDoubt("limited", {}, executionKey("old", "limited"));
  scheduler.enqueue(attempt("limited"));
  assertEquals(dispatch(scheduler).length, 0);
  scheduler.limits.release(executionKey("old", "limited"));
  assertEquals(dispatch(scheduler).length, 1);
});

Deno.test("scheduler: limits a broker announces later apply to the jobs already queued", () => {
  const { registry, scheduler } = cluster(8, { f: {} });
  for (let i = 0; i < 3; i++) scheduler.enqueue(attempt("f"));
  registry.setFunctions(registry.brokers.get("b")!, [{ name: "f", config: { concurrency: 1 } }]);
  assertEquals(dispatch(scheduler).length, 1);
});

Deno.test("scheduler: a client's huge concurrencyKey value is kept as a short hash, distinct per value", () => {
  const limit = new FunctionLimit("keyed");
  limit.configure({ concurrency: 1, concurrencyKey: "customer" });
  const big = limit.keyOf({ customer: "x".repeat(1_000_000) });
  const other = limit.keyOf({ customer: "x".repeat(999_999) + "y" });
  assertEquals(big.length < 64, true, big);
  assertEquals(big === other, false);
  assertEquals(limit.keyOf({ customer: "a" }), '"a"');
  assertEquals(limit.keyOf({}), "null");
});

Deno.test("scheduler: a limited job waiting for a free slot is not starved by others filling the brokers' queues", () => {
  const registry = new Registry();
  registry.addBroker({
    id: "b",
    address: new Uint8Array([98]),
    host: "h",
    pid: 1,
    slots: 1,
    prefetch: 4,
    lastSeen: 0,
    since: 0,
  }, [{ name: "short", config: {} }, { name: "limited", config: { concurrency: 1 } }]);
  const scheduler = new Scheduler(registry, { clock: () => 1_000_000 });
  const [a1, a2] = [attempt("short"), attempt("short")];
  scheduler.enqueue(a1);
  scheduler.enqueue(a2);
  assertEquals(dispatch(scheduler).length, 2, "a slot and one queued ahead");
  scheduler.enqueue(attempt("limited"));
  scheduler.enqueue(attempt("short"));
  finish(scheduler, a1);
  assertEquals(dispatch(scheduler).length, 0, "the later short job does not take the queue's room");
  finish(scheduler, a2);
  assertEquals(dispatch(scheduler).map((a) => a.fn), ["limited", "short"]);
});
