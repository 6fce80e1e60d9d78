/**
 * The Web Worker boundary under attack: a function module that listens on `self` for
 * the messages its warm worker receives and posts forged results for every run id,
 * while many other pipelines of that function run on the same worker. None of their
 * results may be forged and none of their inputs may reach the spy's output.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import type { PipelineResult } from "../mod.ts";
import { jobOf, run, tempDir } from "./_sandbox.ts";

/**
 * The spy: from its top-level code on it records every message event on `self`
 * (listener and `onmessage`), and while its own job runs it posts forged answers
 * for ids 1..2000 every few ms. Its other jobs echo their secret, slowly enough for
 * them to queue behind each other on the one warm worker.
 */
const SPY = `
const seen = [];
const record = (event) => { try { seen.push(JSON.stringify(event.data)); } catch { seen.push(String(event.data)); } };
self.addEventListener("message", record, true);
self.addEventListener("message", record);
try { self.onmessage = record; } catch {}
const forge = () => {
  for (let id = 1; id <= 2000; id++) {
    self.postMessage({ type: "ok", id, result: { kind: "run", output: { forged: true } } });
    self.postMessage({ type: "error", id, error: { name: "Error", message: "forged", retryable: false } });
  }
};
export default async (input) => {
  if (input.role !== "spy") {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { echo: input.secret };
  }
  const timer = setInterval(forge, 5);
  forge();
  await new Promise((resolve) => setTimeout(resolve, Number(input.ms ?? 800)));
  clearInterval(timer);
  return { seen: seen.join("\\n") };
};
`;

/**
 * The same spy by another way: it replaces the built-ins and prototype slots a
 * bootstrap might call with the requests it queues (array methods and iterator,
 * getters for absent fields, JSON, Map and Object helpers) and records whatever
 * they are called with. Its job ends before any other job of the worker begins, so
 * whatever it saw came from the requests queued behind it.
 */
const PATCHER = `
const seen = [];
const stringify = JSON.stringify;
const push = Array.prototype.push;
let busy = false;
const note = (value) => {
  if (busy) return;
  busy = true;
  try { push.call(seen, String(stringify(value))); } catch { /* a cycle or BigInt */ }
  busy = false;
};
const wrap = (owner, key) => {
  const original = owner[key];
  if (typeof original !== "function") return;
  owner[key] = function (...args) {
    note(this);
    for (let at = 0; at < args.length; at++) note(args[at]);
    return original.apply(this, args);
  };
};
for (const key of ["push", "shift", "unshift", "splice", "findIndex", "find", "filter", "map", "every", "some", "forEach", "includes", "indexOf", "slice", "concat"]) wrap(Array.prototype, key);
wrap(Array, "isArray");
wrap(Map.prototype, "set");
wrap(Map.prototype, "get");
wrap(Object, "keys");
wrap(Object, "entries");
wrap(Object, "getPrototypeOf");
wrap(Object, "hasOwn");
wrap(Number, "isFinite");
wrap(JSON, "parse");
wrap(JSON, "stringify");
const iterator = Array.prototype[Symbol.iterator];
Array.prototype[Symbol.iterator] = function () { note(this); return iterator.call(this); };
for (const key of ["then", "requires", "stack", "problems", "reason"]) {
  for (const proto of [Object.prototype, Array.prototype, Uint8Array.prototype]) {
    try {
      Object.defineProperty(proto, key, { configurable: true, get() { note(this); return undefined; } });
    } catch { /* refused */ }
  }
}
for (const proto of [Object.prototype, Array.prototype]) {
  const constructor = proto.constructor;
  Object.defineProperty(proto, "constructor", { configurable: true, get() { note(this); return constructor; } });
}
export default async (input) => {
  if (input.role !== "spy") return { echo: input.secret };
  await new Promise((resolve) => setTimeout(resolve, Number(input.ms ?? 800)));
  return { seen: seen.join("\\n").slice(0, 200000) };
};
`;

/** Runs `fn` as the spy while 12 victims of it queue behind it; checks what it got. */
async function spyOn(cluster: Cluster, fn: string): Promise<void> {
  const spyRun = run(cluster, { graph: { [fn]: [] }, data: { role: "spy", ms: 1500 } });
  await new Promise((resolve) => setTimeout(resolve, 150));
  const secrets = Array.from({ length: 12 }, (_, i) => `secret-${i}-${crypto.randomUUID()}`);
  const others: PipelineResult[] = await Promise.all(
    secrets.map((secret) =>
      run(cluster, { graph: { [fn]: [] }, data: { role: "victim", secret } })
    ),
  );
  const spy = await spyRun;
  for (const [at, result] of others.entries()) {
    const job = jobOf(result);
    assertEquals(job.status, "succeeded", JSON.stringify(job));
    assertEquals(job.output, { echo: secrets[at]! }, "a victim's result is its own");
  }
  const spyJob = jobOf(spy);
  assertEquals(spyJob.status, "succeeded", JSON.stringify(spyJob));
  const seen = String(spyJob.output?.seen ?? "");
  for (const secret of secrets) {
    const at = seen.indexOf(secret);
    assert(
      at < 0,
      `the spy saw another job's input: ${seen.slice(Math.max(0, at - 600), at + 100)}`,
    );
  }
}

/** Counts its jobs in a module-level variable: what a warm worker keeps between them. */
const COUNTER = `let count = 0;
export default () => ({ count: ++count });
`;

Deno.test("a job's code can touch only its own job", async (t) => {
  await using functions = await tempDir({
    "spy.ts": SPY,
    "patcher.ts": PATCHER,
    "counter.ts": COUNTER,
    "counter_job.ts": `export const config = { isolation: "job" };\n${COUNTER}`,
    "counter_bad.ts": `export const config = { isolation: "process" };\n${COUNTER}`,
  });
  await using cluster = await Cluster.start({
    functionsDir: functions.path,
    workers: 1,
    waitFor: ["spy", "patcher", "counter", "counter_job"],
  });

  await t.step(
    'globals live on between the jobs of a warm worker; with isolation "job" they do not',
    async () => {
      const counts = async (fn: string) => {
        const seen: unknown[] = [];
        for (let i = 0; i < 3; i++) {
          seen.push(jobOf(await run(cluster, { graph: { [fn]: [] }, data: {} })).output?.count);
        }
        return seen;
      };
      const warm = await counts("counter");
      assertEquals(warm, [warm[0], Number(warm[0]) + 1, Number(warm[0]) + 2]);
      assertEquals(await counts("counter_job"), [1, 1, 1]);
      const listed = (await cluster.manager.functions()).find((f) => f.name === "counter_bad");
      assert(
        JSON.stringify(listed).includes('\\"config.isolation\\" must be \\"worker\\" or \\"job\\"'),
        JSON.stringify(listed),
      );
    },
  );

  await t.step(
    "a spy that replaces built-ins sees nothing of the jobs queued behind it",
    () => spyOn(cluster, "patcher"),
  );

  await t.step("a spy on self neither sees nor forges the other jobs on its worker", async () => {
    const spyRun = run(cluster, { graph: { spy: [] }, data: { role: "spy", ms: 1500 } });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const secrets = Array.from({ length: 12 }, (_, i) => `secret-${i}-${crypto.randomUUID()}`);
    const others: PipelineResult[] = await Promise.all(
      secrets.map((secret) =>
        run(cluster, { graph: { spy: [] }, data: { role: "victim", secret } })
      ),
    );
    const spy = await spyRun;
    for (const [at, result] of others.entries()) {
      const job = jobOf(result);
      assertEquals(job.status, "succeeded", JSON.stringify(job));
      assertEquals(job.output, { echo: secrets[at]! }, "a victim's result is its own");
    }
    const spyJob = jobOf(spy);
    assertEquals(spyJob.status, "succeeded", JSON.stringify(spyJob));
    const seen = String(spyJob.output?.seen ?? "");
    for (const secret of secrets) {
      const at = seen.indexOf(secret);
      assert(
        at < 0,
        `the spy saw another job's input: ${seen.slice(Math.max(0, at - 600), at + 100)}`,
      );
    }
    assert(!seen.includes('"type":"run"'), `the spy saw a run message: ${seen.slice(0, 300)}`);
  });
});
