/**
 * What crosses the Web Worker boundary is checked for its values, not only its
 * shape: an output that is not plain JSON (BigInt, cycles, functions, getters, Maps,
 * too deep, too large) fails its job with an `InvalidOutputError`; an error's message
 * and stack are cut to their caps; an input too deep to copy fails its job; user
 * code posting anything on `self` (a 100,000-deep array) harms no job. The host is
 * the test process here: each check is that it is still alive and serving.
 */
import { assert, assertEquals } from "./_assert.ts";
import { ENTRY_URL } from "../broker/host/sandbox.ts";
import { type RunResult, SandboxWorker } from "../broker/host/sandbox_worker.ts";
import { readOnlyPermissions } from "../broker/messages/permissions.ts";
import { DEFAULT_WORKER_LIMITS, type WorkerLimits } from "../broker/messages/worker.ts";
import type { LogRecord } from "../broker/messages/sandbox.ts";
import type { JsonObject } from "../core/types.ts";
import { Cluster } from "./_cluster.ts";
import { jobOf, run, tempDir } from "./_sandbox.ts";

/** Returns what `input.kind` names; each is something JSON cannot carry as is. */
const VALUES = `
const deep = (n) => { let v = 1; for (let i = 0; i < n; i++) v = [v]; return v; };
export default (input, ctx) => {
  switch (input.kind) {
    case "flood":
      for (let i = 0; i < 200000; i++) ctx.log.info("record " + i, { i });
      for (let i = 0; i < 1000; i++) console.log("line", i);
      return { logged: true };
    case "bigint": return { n: 10n };
    case "cycle": { const o = { a: 1 }; o.self = o; return o; }
    case "function": return { f() { return 1; } };
    case "getter": return { get x() { return 1; } };
    case "map": return { m: new Map([[1, 2]]) };
    case "deep": return { v: deep(100) };
    case "large": return { s: "x".repeat(2000) };
    case "nan": return { n: NaN };
    case "date": return { at: new Date(0), n: 1 };
    case "patched": {
      JSON.stringify = () => '{"n":1n}';
      JSON.parse = () => ({ n: 10n });
      return { ok: true };
    }
    case "long error": {
      const error = new Error("m".repeat(100000));
      error.stack = "s".repeat(200000);
      throw error;
    }
    case "post deep":
      for (const n of [5000, 20000, 50000, 100000]) try { self.postMessage(deep(n)); } catch {}
      return { posted: true };
    case "post bigint": self.postMessage({ type: "ok", id: 1, result: { kind: "run", json: 1n } }); return { posted: true };
    default: return { echo: input.kind };
  }
};
`;

const LIMITS: WorkerLimits = { ...DEFAULT_WORKER_LIMITS, maxOutputChars: 1000 };

async function withWorker(
  body: (run: (input: JsonObject) => Promise<RunResult>, logs: LogRecord[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-values-" });
  await Deno.writeTextFile(`${dir}/values.ts`, VALUES);
  const url = new URL(`file://${dir}/values.ts`).href;
  const logs: LogRecord[] = [];
  const permissions = readOnlyPermissions([dir]);
  let worker = newWorker();
  function newWorker(): SandboxWorker {
    return new SandboxWorker(ENTRY_URL, "values", 1, permissions, (_, r) => logs.push(r), LIMITS);
  }
  let ids = 1;
  const run = async (input: JsonObject): Promise<RunResult> => {
    if (worker.dead) worker = newWorker();
    const loaded = await worker.load(url, 0, 10_000, new AbortController().signal);
    assert(loaded.ok, JSON.stringify(loaded));
    const id = ids++;
    const job = {
      id,
      fn: "values",
      url,
      version: 1,
      permissions,
      timeoutMs: 10_000,
      input,
      jobId: `job-${id}`,
      pipelineId: "p",
      attempt: 1,
    };
    const [result] = worker.runChain(job, [], [new AbortController().signal]);
    return await result!;
  };
  try {
    await body(run, logs);
  } finally {
    worker.terminate();
    await Deno.remove(dir, { recursive: true });
  }
}

function errorOf(result: RunResult): { name: string; message: string; stack?: string } {
  assert(!result.ok, `expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

Deno.test("an output that is not plain JSON fails its job, and the host serves on", async () => {
  await withWorker(async (run) => {
    for (const kind of ["bigint", "cycle", "function", "getter", "map", "deep", "large", "nan"]) {
      const error = errorOf(await run({ kind }));
      assertEquals(error.name, "InvalidOutputError", `${kind}: ${error.message}`);
      assert(/^Function "values" returned/.test(error.message), error.message);
    }
    assertEquals(await run({ kind: "date" }), {
      ok: true,
      output: { at: "1970-01-01T00:00:00.000Z", n: 1 },
    });
    // Replacing JSON in the worker changes nothing: the entry took its own.
    assertEquals(await run({ kind: "patched" }), { ok: true, output: { ok: true } });
    assertEquals(await run({ kind: "fine" }), { ok: true, output: { echo: "fine" } });
  });
});

Deno.test("an error's message and stack are cut to their caps, with a marker", async () => {
  await withWorker(async (run) => {
    const error = errorOf(await run({ kind: "long error" }));
    assertEquals(error.name, "Error");
    assert(error.message.length < LIMITS.maxErrorMessageChars + 100, `${error.message.length}`);
    assert(error.message.endsWith("(cut: 100000 characters)"), error.message.slice(-60));
    assert(error.stack!.length < LIMITS.maxErrorStackChars + 100, `${error.stack!.length}`);
    assert(error.stack!.endsWith("(cut: 200000 characters)"), error.stack!.slice(-60));
  });
});

Deno.test("an input too deep to copy fails its job, not the host", async () => {
  await withWorker(async (run) => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const error = errorOf(await run({ kind: "fine", deep } as JsonObject));
    assertEquals(error.name, "InvalidInputError", error.message);
    assertEquals(await run({ kind: "fine" }), { ok: true, output: { echo: "fine" } });
  });
});

Deno.test("what user code posts on self is ignored: no job is answered by it", async () => {
  await withWorker(async (run) => {
    assertEquals(await run({ kind: "post deep" }), { ok: true, output: { posted: true } });
    assertEquals(await run({ kind: "post bigint" }), { ok: true, output: { posted: true } });
    assertEquals(await run({ kind: "fine" }), { ok: true, output: { echo: "fine" } });
  });
});

Deno.test("the host checks a worker's output text again: size, shape and depth", async () => {
  const { parseOutput } = await import("../broker/host/json_value.ts");
  const refused = (json: string) => {
    const result = parseOutput("values", json, LIMITS);
    assert(!result.ok, json.slice(0, 80));
    assertEquals(result.error.name, "InvalidOutputError");
    return result.error.message;
  };
  assert(/over the limit of 1000/.test(refused(JSON.stringify({ s: "x".repeat(2000) }))));
  assert(/not a JSON object/.test(refused("[1]")));
  assert(/not JSON/.test(refused("{")));
  assert(/deeper than 64/.test(refused(`{"v":${"[".repeat(100)}${"]".repeat(100)}}`)));
  assertEquals(parseOutput("values", '{"a":[1,{"b":null}]}', LIMITS), {
    ok: true,
    output: { a: [1, { b: null }] },
  });
});

Deno.test("a job that logs 200,000 records writes at most its budget, and says what was cut", async () => {
  await withWorker(async (run, logs) => {
    const started = performance.now();
    assertEquals(await run({ kind: "flood" }), { ok: true, output: { logged: true } });
    const ms = performance.now() - started;
    const chars = logs.reduce(
      (sum, r) => sum + r.message.length + JSON.stringify(r.fields ?? {}).length,
      0,
    );
    assert(chars < DEFAULT_WORKER_LIMITS.maxLogCharsPerAttempt * 1.5, `${chars} characters logged`);
    const last = logs[logs.length - 1]!;
    assert(/^Log cut at 1000000 characters: \d+ more records/.test(last.message), last.message);
    assertEquals(logs.filter((r) => r.message.startsWith("Log cut")).length, 1);
    // The next job has its own budget.
    logs.length = 0;
    assertEquals(await run({ kind: "fine" }), { ok: true, output: { echo: "fine" } });
    assert(ms < 10_000, `the flood took ${ms} ms`);
  });
});

Deno.test("the caps are the broker's flags", async () => {
  await using functions = await tempDir({
    "big.ts": `export default (input) => ({ s: "x".repeat(Number(input.n)) });`,
  });
  await using cluster = await Cluster.start({
    functionsDir: functions.path,
    workers: 1,
    brokerArgs: ["--max-output-chars", "5000"],
    waitFor: ["big"],
  });
  const big = jobOf(await run(cluster, { graph: { big: [] }, data: { n: 6000 } }));
  assertEquals(big.status, "failed");
  assertEquals(big.error?.name, "InvalidOutputError");
  assert(/over the limit of 5000/.test(big.error?.message ?? ""), big.error?.message);
  assertEquals(big.attempts, 1, "not retried: another attempt would not fit either");
  const small = jobOf(await run(cluster, { graph: { big: [] }, data: { n: 10 } }));
  assertEquals(small.output, { s: "x".repeat(10) });
});
