/**
 * The broker's sandbox with real worker host processes and Web Workers. Each test
 * runs on its own temporary copy of `tests/fixtures/functions`.
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import type { FunctionChange } from "../broker/function_registry.ts";
import { type JobOutcome, type JobRequest, WorkerPool } from "../broker/worker_pool.ts";
import type { JsonObject } from "../core/types.ts";

const FIXTURES = new URL("./fixtures/functions/", import.meta.url);

/** Copies the fixtures to a fresh folder; `x.ts.txt` becomes `x.ts` (see `syntax_error.ts.txt`). */
async function fixtureCopy(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-functions-" });
  for await (const entry of Deno.readDir(FIXTURES)) {
    if (!entry.isFile) continue;
    const target = entry.name.endsWith(".ts.txt") ? entry.name.slice(0, -4) : entry.name;
    await Deno.copyFile(new URL(entry.name, FIXTURES), `${dir}/${target}`);
  }
  return dir;
}

async function withPool(
  options: { size?: number; heapMb?: number; depth?: number; describerIdleMs?: number },
  body: (pool: WorkerPool, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await fixtureCopy();
  const pool = new WorkerPool({
    functionsDir: dir,
    size: options.size ?? 1,
    heapMb: options.heapMb ?? 64,
    depth: options.depth,
    describerIdleMs: options.describerIdleMs,
  });
  try {
    await pool.start();
    await body(pool, dir);
  } finally {
    await pool.close();
    await Deno.remove(dir, { recursive: true });
  }
}

let jobs = 0;
function job(fn: string, input: JsonObject = {}, extra: Partial<JobRequest> = {}): JobRequest {
  return { fn, input, jobId: `job-${++jobs}`, pipelineId: "pipeline-1", attempt: 1, ...extra };
}

function failure(outcome: JobOutcome) {
  assert(!outcome.ok, `expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}

function output(outcome: JobOutcome): JsonObject {
  assert(outcome.ok, `expected success, got ${JSON.stringify(outcome)}`);
  return outcome.output;
}

/** Resolves with the next registry change for which `accept` holds. */
function nextChange(
  pool: WorkerPool,
  accept: (change: FunctionChange) => boolean,
): Promise<FunctionChange> {
  return new Promise((resolve) => {
    const stop = pool.registry.onChange((change) => {
      if (!accept(change)) return;
      stop();
      resolve(change);
    });
  });
}

Deno.test("pool runs a function and returns its output", async () => {
  await withPool({}, async (pool) => {
    const outcome = await pool.run(job("ok", { n: 1, keep: "me" }));
    assertEquals(output(outcome), { n: 2, keep: "me" });
    assertEquals(outcome.logs, []);
    assert(outcome.durationMs >= 0);
    assertEquals(
      output(await pool.run(job("ok", { n: 41 }))),
      { n: 42 },
      "the warm worker serves again",
    );
  });
});

Deno.test("pool fails a job whose function throws, with the error's name, message and stack", async () => {
  await withPool({}, async (pool) => {
    const error = failure(await pool.run(job("throws")));
    assertEquals(error.name, "RangeError");
    assertEquals(error.message, "Nothing to see here");
    assertMatch(error.stack ?? "", /throws\.ts/);
    assertEquals(error.retryable, true);
  });
});

Deno.test("pool marks a NonRetryableError as not retryable", async () => {
  await withPool({}, async (pool) => {
    const error = failure(await pool.run(job("nonretryable")));
    assertEquals(error.name, "NonRetryableError");
    assertEquals(error.retryable, false);
  });
});

Deno.test("pool times out a hanging function and the slot keeps serving", async () => {
  await withPool({ size: 1 }, async (pool) => {
    const error = failure(await pool.run(job("hangs")));
    assertEquals(error.name, "JobTimeoutError");
    assertEquals(error.retryable, true);
    assertEquals(output(await pool.run(job("ok", { n: 1 }))), { n: 2 });
    const overridden = failure(await pool.run(job("slow", { ms: 5_000 }, { timeoutMs: 100 })));
    assertEquals(
      overridden.name,
      "JobTimeoutError",
      "the request's timeoutMs wins over the config",
    );
  });
});

Deno.test("pool fails only the job that runs out of memory; another slot finishes and the pool serves on", async () => {
  await withPool({ size: 2, heapMb: 64 }, async (pool) => {
    const [hog, slow] = await Promise.all([
      pool.run(job("oom")),
      pool.run(job("slow", { ms: 1_000 })),
    ]);
    const error = failure(hog);
    assertEquals(error.name, "OutOfMemoryError");
    assertEquals(error.message, 'Function "oom" ran out of memory (heap limit 64 MiB)');
    assertEquals(output(slow).waited, 1_000);
    const after = await Promise.all([pool.run(job("ok", { n: 1 })), pool.run(job("ok", { n: 2 }))]);
    assertEquals(after.map(output), [{ n: 2 }, { n: 3 }]);
  });
});

Deno.test("functions cannot read files or open sockets they did not declare; declared reads work", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { port } = listener.addr as Deno.NetAddr;
    await withPool({}, async (pool) => {
      for (const outcome of [await pool.run(job("reads_file"))]) {
        const error = failure(outcome);
        assert(error.name === "NotCapable" || /read access/.test(error.message), error.message);
      }
      for (const via of ["connect", "fetch"]) {
        const error = failure(await pool.run(job("opens_socket", { port, via })));
        assert(
          error.name === "NotCapable" || /net access/.test(error.message),
          `${via}: ${error.message}`,
        );
      }
      const allowed = output(await pool.run(job("reads_file_allowed")));
      assertEquals(allowed.text, await Deno.readTextFile("/etc/hostname"));
    });
  } finally {
    listener.close();
  }
});

Deno.test("pool reports a function it does not know as FunctionNotFoundError", async () => {
  await withPool({}, async (pool) => {
    const error = failure(await pool.run(job("nope")));
    assertEquals(error.name, "FunctionNotFoundError");
    assertEquals(error.message, 'Function "nope" is not known to this broker');
  });
});

Deno.test("registry reports modules that fail to load while the others load", async () => {
  await withPool({}, async (pool) => {
    const broken = pool.registry.get("syntax_error");
    assert(broken?.error, "syntax_error has an error");
    assertEquals(broken.error.retryable, false);
    assertMatch(broken.error.message, /syntax_error\.ts/);
    assertMatch(pool.registry.get("no_default")?.error?.message ?? "", /no default export/);
    assertEquals(pool.registry.get("ok")?.error, undefined);
    assertEquals(pool.registry.get("hangs")?.config, { timeoutMs: 500 });
    const names = pool.registry.list().map((entry) => entry.name);
    assert(names.includes("ok") && names.includes("slow") && !names.includes("syntax_error.ts"));
    assertEquals(failure(await pool.run(job("syntax_error"))).message, broken.error.message);
    assertEquals(output(await pool.run(job("ok", { n: 0 }))), { n: 1 });
  });
});

Deno.test("registry rejects invalid configs and permissions that are never granted", async () => {
  await withPool({}, async (pool, dir) => {
    const changed = nextChange(pool, (change) => change.added.includes("greedy"));
    await Deno.writeTextFile(
      `${dir}/greedy.ts`,
      `export const config = { permissions: { run: true, net: "yes" }, timeoutMs: -1, extra: 1 };
export default () => ({});\n`,
    );
    await changed;
    const error = pool.registry.get("greedy")?.error;
    assertEquals(error?.name, "FunctionLoadError");
    for (
      const part of [
        /"run" is never granted/,
        /permissions\.net/,
        /timeoutMs/,
        /Unknown config key "extra"/,
      ]
    ) {
      assertMatch(error?.message ?? "", part);
    }
    assertEquals(failure(await pool.run(job("greedy"))).name, "FunctionLoadError");
  });
});

Deno.test("new, changed and removed function files take effect without a restart", async () => {
  await withPool({ size: 1 }, async (pool, dir) => {
    assertEquals(output(await pool.run(job("ok", { n: 1 }))), { n: 2 });

    let changed = nextChange(pool, (change) => change.added.includes("fresh"));
    await Deno.writeTextFile(`${dir}/fresh.ts`, `export default () => ({ fresh: true });\n`);
    await changed;
    assertEquals(output(await pool.run(job("fresh"))), { fresh: true });

    changed = nextChange(pool, (change) => change.changed.includes("ok"));
    await Deno.writeTextFile(`${dir}/ok.ts`, `export default (input) => ({ n: input.n + 100 });\n`);
    await changed;
    assertEquals(
      output(await pool.run(job("ok", { n: 1 }))),
      { n: 101 },
      "the warm worker was replaced",
    );

    changed = nextChange(pool, (change) => change.removed.includes("fresh"));
    await Deno.remove(`${dir}/fresh.ts`);
    await changed;
    assertEquals(failure(await pool.run(job("fresh"))).name, "FunctionNotFoundError");
  });
});

/** Adds a function that declares a read of `secret` and returns its text; waits until it is loaded. */
async function addSecretReader(pool: WorkerPool, dir: string, secret: string): Promise<void> {
  const changed = nextChange(pool, (change) => change.added.includes("reads_secret"));
  await Deno.writeTextFile(
    `${dir}/reads_secret.ts`,
    `export const config = { permissions: { read: [${JSON.stringify(secret)}] } };
export default async () => ({ secret: await Deno.readTextFile(${JSON.stringify(secret)}) });\n`,
  );
  await changed;
}

Deno.test("the describe host stops when idle and comes back for a new function file", async () => {
  await withPool({ size: 1, describerIdleMs: 100 }, async (pool, dir) => {
    const deadline = Date.now() + 20_000;
    while (pool.pids.length > 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assertEquals(pool.pids.length, 1, "only the slot's host is left");
    const changed = nextChange(pool, (change) => change.added.includes("late"));
    await Deno.writeTextFile(`${dir}/late.ts`, "export default () => ({ late: true });\n");
    await changed;
    assertEquals(output(await pool.run(job("late"))), { late: true });
  });
});

Deno.test("a new function that declares more permissions restarts the hosts with them", async () => {
  const secret = await Deno.makeTempFile({ prefix: "pipelinin-secret-" });
  try {
    await Deno.writeTextFile(secret, "s3cret");
    await withPool({ size: 1 }, async (pool, dir) => {
      await addSecretReader(pool, dir, secret);
      assertEquals(output(await pool.run(job("reads_secret"))), { secret: "s3cret" });
      const error = failure(await pool.run(job("reads_file")));
      assertEquals(error.name, "NotCapable", "other functions still cannot read");
    });
  } finally {
    await Deno.remove(secret);
  }
});

Deno.test("a host busy with queued jobs when a function gains permissions restarts once they are done", async () => {
  const secret = await Deno.makeTempFile({ prefix: "pipelinin-secret-" });
  try {
    await Deno.writeTextFile(secret, "s3cret");
    await withPool({ size: 1, depth: 4 }, async (pool, dir) => {
      const busy = [pool.run(job("slow", { ms: 400 })), pool.run(job("slow", { ms: 200 }))];
      await addSecretReader(pool, dir, secret);
      const [first, second, read] = await Promise.all([...busy, pool.run(job("reads_secret"))]);
      assertEquals([output(first!).waited, output(second!).waited], [400, 200]);
      assertEquals(output(read!), { secret: "s3cret" });
    });
  } finally {
    await Deno.remove(secret);
  }
});

Deno.test("aborting a job's signal cancels it, whether it is running, ignoring the signal, or queued", async () => {
  await withPool({ size: 1 }, async (pool) => {
    const started = performance.now();
    const cooperative = new AbortController();
    setTimeout(() => cooperative.abort(), 100);
    assertEquals(
      failure(await pool.run(job("slow", { ms: 20_000 }, { signal: cooperative.signal }))).name,
      "JobCancelledError",
    );

    const stubborn = new AbortController();
    const hanging = pool.run(job("hangs", {}, { timeoutMs: 20_000, signal: stubborn.signal }));
    const queued = new AbortController();
    const waiting = pool.run(job("ok", {}, { signal: queued.signal }));
    queued.abort();
    assertEquals(failure(await waiting).name, "JobCancelledError");
    stubborn.abort();
    assertEquals(failure(await hanging).name, "JobCancelledError");
    assert(performance.now() - started < 15_000, "cancelled jobs did not run to their end");
    assertEquals(output(await pool.run(job("ok", { n: 1 }))), { n: 2 });
  });
});

Deno.test("logs from ctx.log and console arrive with the outcome", async () => {
  await withPool({}, async (pool) => {
    const outcome = await pool.run(job("logs", { x: 1 }, { jobId: "job-logs", attempt: 2 }));
    assertEquals(output(outcome), { logged: 5 });
    const records = outcome.logs.map(({ level, message, fields }) => ({ level, message, fields }));
    assertEquals(records, [
      { level: "debug", message: "Starting", fields: { attempt: 2 } },
      {
        level: "info",
        message: "Working on job",
        fields: { jobId: "job-logs", pipelineId: "pipeline-1" },
      },
      { level: "warn", message: "Careful", fields: undefined },
      { level: "error", message: "Something looked wrong", fields: { input: { x: 1 } } },
      { level: "info", message: "from console { n: 1 }", fields: undefined },
    ]);
    assert(outcome.logs.every((record) => typeof record.time === "number"));
  });
});

Deno.test("pool rejects an output that is not a JSON object", async () => {
  await withPool({}, async (pool) => {
    const error = failure(await pool.run(job("bad_output")));
    assertEquals(error.message, 'Function "bad_output" returned a string instead of a JSON object');
    assertEquals(error.retryable, false);
  });
});

Deno.test("pool of size 2 runs two slow jobs at once, and queues a third in order", async () => {
  await withPool({ size: 2 }, async (pool) => {
    const a = pool.run(job("slow", { ms: 500 }));
    const b = pool.run(job("slow", { ms: 500 }));
    const c = pool.run(job("slow", { ms: 10 }));
    assertEquals([pool.size, pool.busy], [2, 2]);
    const [first, second, third] = (await Promise.all([a, b, c])).map(output);
    assert(first && second && third);
    assert(
      Number(first.startedAt) < Number(second.endedAt) &&
        Number(second.startedAt) < Number(first.endedAt),
      "the two slow jobs overlapped",
    );
    assert(
      Number(third.startedAt) >= Math.min(Number(first.endedAt), Number(second.endedAt)),
      "the third waited",
    );
    assertEquals(pool.busy, 0);
  });
});

Deno.test("a host given several jobs runs them one at a time, in order, each timed from its own start", async () => {
  await withPool({ size: 1, depth: 4 }, async (pool) => {
    const runs = [
      pool.run(job("slow", { ms: 300 })),
      pool.run(job("slow", { ms: 300 }, { timeoutMs: 400 })),
      pool.run(job("slow", { ms: 50 })),
    ];
    assertEquals(pool.busy, 1);
    const [a, b, c] = (await Promise.all(runs)).map(output);
    assert(a && b && c);
    assert(Number(b.startedAt) >= Number(a.endedAt), "the second waited for the first");
    assert(Number(c.startedAt) >= Number(b.endedAt), "the third waited for the second");
    // The second's 400 ms limit counts from its own start, not from when it was handed over.
    assertEquals(b.waited, 300);
  });
});

Deno.test("jobs queued behind a job that hangs or runs out of memory still run and succeed", async () => {
  await withPool({ size: 1, depth: 4, heapMb: 64 }, async (pool) => {
    const [hung, behindHung] = await Promise.all([
      pool.run(job("hangs")),
      pool.run(job("ok", { n: 1 })),
    ]);
    assertEquals(failure(hung).name, "JobTimeoutError");
    assertEquals(output(behindHung), { n: 2 });
    const [hog, behindHog, last] = await Promise.all([
      pool.run(job("oom")),
      pool.run(job("ok", { n: 2 })),
      pool.run(job("slow", { ms: 10 })),
    ]);
    assertEquals(failure(hog).name, "OutOfMemoryError");
    assertEquals(output(behindHog), { n: 3 });
    assertEquals(output(last).waited, 10);
  });
});

Deno.test("cancelling a job queued in a host ends it at once; the running one goes on, even one that ignores signals", async () => {
  // `slow` listens to its signal; `spin` keeps the CPU busy, so its worker cannot even read
  // the cancel until it is done: the host must not be killed under it for that.
  for (const [fn, ms, field] of [["slow", 600, "waited"], ["spin", 1_500, "spun"]] as const) {
    await withPool({ size: 1, depth: 4 }, async (pool) => {
      const running = pool.run(job(fn, { ms }));
      const controller = new AbortController();
      // Same function: it waits inside that very worker.
      const queued = pool.run(job(fn, { ms: 10 }, { signal: controller.signal }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      controller.abort();
      const error = failure(await queued);
      assertEquals(error.name, "JobCancelledError", fn);
      assertEquals(output(await running)[field], ms, `${fn}: the running job was not killed`);
    });
  }
});

Deno.test("closing the pool fails running jobs and leaves no host process behind", async () => {
  const dir = await fixtureCopy();
  const pool = new WorkerPool({ functionsDir: dir, size: 2, heapMb: 64 });
  try {
    await pool.start();
    assertEquals(pool.pids.length, 3, "two slots and the describer");
    assertEquals((await processesIn(dir)).length, 3);
    const running = pool.run(job("hangs", {}, { timeoutMs: 20_000 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await pool.close();
    assertEquals(failure(await running).name, "JobCancelledError");
    assertEquals(await processesIn(dir), []);
    assertEquals(failure(await pool.run(job("ok"))).name, "JobCancelledError");
  } finally {
    await pool.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("closing the pool while it starts leaves no host process behind", async () => {
  const dir = await fixtureCopy();
  const pool = new WorkerPool({ functionsDir: dir, size: 2, heapMb: 64 });
  try {
    const starting = pool.start();
    await pool.close();
    await starting.then(() => assert(false, "start should fail"), () => {});
    assertEquals(await processesIn(dir), []);
  } finally {
    await pool.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("starting a pool on a missing folder fails without leaving anything running", async () => {
  const pool = new WorkerPool({ functionsDir: "/nonexistent/pipelinin-functions", size: 1 });
  try {
    await pool.start().then(() => assert(false, "start should fail"), (error) => {
      assert(error instanceof Deno.errors.NotFound, String(error));
    });
    assertEquals(pool.pids, []);
  } finally {
    await pool.close();
  }
});

/** Process ids whose working directory is `dir`: worker hosts run in their functions folder. */
async function processesIn(dir: string): Promise<number[]> {
  const real = await Deno.realPath(dir);
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (await Deno.readLink(`/proc/${entry.name}/cwd`) === real) pids.push(Number(entry.name));
    } catch {
      // Gone meanwhile, or not ours to inspect.
    }
  }
  return pids;
}

Deno.test("a chain runs each job after the one before on one host, with that one's document and output as input", async () => {
  await withPool({}, async (pool) => {
    const [a, b, c] = pool.runChain(
      { ...job("ok", { n: 1 }), document: { n: 1, wide: true } },
      [{ fn: "tag_n", jobId: "narrow", attempt: 1 }, { fn: "tag", jobId: "wide", attempt: 1 }],
    );
    assertEquals(output((await a)!), { n: 2 });
    assertEquals(output((await b)!), { narrow: ["n"] }, "narrowed to its requires");
    assertEquals(
      output((await c)!),
      { wide: ["n", "narrow", "wide"] },
      "the whole document: the first job's, merged with each output",
    );
  });
});

Deno.test("a chain stops at a job that does not succeed: the jobs after it never begin", async () => {
  await withPool({}, async (pool) => {
    const pids = pool.pids;
    // Had the host begun the follower, running out of memory would have replaced it.
    const [a, b, c] = pool.runChain(job("throws"), [
      { fn: "oom", jobId: "b", attempt: 1 },
      { fn: "ok", jobId: "c", attempt: 1 },
    ]);
    assertEquals(failure((await a)!).name, "RangeError");
    assertEquals([await b, await c], [undefined, undefined]);
    assertEquals(output(await pool.run(job("ok", { n: 0 }))), { n: 1 });
    assertEquals(pool.pids, pids, "the host never ran the follower");
    // A follower the pool does not know fails in its turn; the slot serves on.
    const [d, e] = pool.runChain(job("ok", { n: 1 }), [{ fn: "nope", jobId: "e", attempt: 1 }]);
    assertEquals(output((await d)!), { n: 2 });
    assertEquals(failure((await e)!).name, "FunctionNotFoundError");
    assertEquals(output(await pool.run(job("ok", { n: 5 }))), { n: 6 });
  });
});

Deno.test("a follower cancelled before its turn never begins; the job before it still ends", async () => {
  await withPool({}, async (pool) => {
    const cancel = new AbortController();
    const pids = pool.pids;
    const [a, b, c] = pool.runChain(job("slow", { ms: 300 }), [
      { fn: "oom", jobId: "b", attempt: 1, signal: cancel.signal },
      { fn: "tag", jobId: "c", attempt: 1 },
    ]);
    cancel.abort();
    assertEquals(output((await a)!).waited, 300);
    assertEquals(failure((await b)!).name, "JobCancelledError");
    assertEquals(await c, undefined);
    assertEquals(output(await pool.run(job("ok", { n: 0 }))), { n: 1 });
    assertEquals(pool.pids, pids, "the host never ran the follower");
  });
});

Deno.test("followers of the same function run on in its Web Worker, each with the document before it; another function's follower comes after", async () => {
  await withPool({}, async (pool) => {
    const steps = pool.runChain(
      job("tag", { n: 1, wide: true }, { jobId: "a" }),
      [
        { fn: "tag", jobId: "b", attempt: 1 },
        { fn: "tag_n", jobId: "c", attempt: 1 },
        { fn: "tag", jobId: "d", attempt: 1 },
      ],
    );
    const [a, b, c, d] = await Promise.all(steps);
    assertEquals(output(a!), { a: ["n", "wide"] });
    assertEquals(output(b!), { b: ["a", "n", "wide"] }, "the first job's document and output");
    assertEquals(output(c!), { c: ["n"] }, "narrowed to its requires");
    assertEquals(output(d!), { d: ["a", "b", "c", "n", "wide"] });
  });
});

Deno.test("a chain of one function stops at a failure, and a follower cancelled before its turn never begins", async () => {
  await withPool({}, async (pool) => {
    const [a, b, c] = pool.runChain(job("throws"), [
      { fn: "throws", jobId: "b", attempt: 1 },
      { fn: "throws", jobId: "c", attempt: 1 },
    ]);
    assertEquals(failure((await a)!).name, "RangeError");
    assertEquals([await b, await c], [undefined, undefined]);
    const cancel = new AbortController();
    const [d, e, f] = pool.runChain(job("slow", { ms: 300 }), [
      { fn: "slow", jobId: "e", attempt: 1, signal: cancel.signal },
      { fn: "slow", jobId: "f", attempt: 1 },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    cancel.abort();
    assertEquals(output((await d)!).waited, 300);
    assertEquals(failure((await e)!).name, "JobCancelledError");
    assertEquals(await f, undefined);
    assertEquals(output(await pool.run(job("ok", { n: 0 }))), { n: 1 });
  });
});

Deno.test("a chain of one function queued behind a job whose worker is terminated runs again, followers and all", async () => {
  await withPool({ size: 1, depth: 4 }, async (pool) => {
    // The first job overruns and ignores its signal: its host terminates the Web Worker
    // under the chain queued behind it in that worker.
    const hung = pool.run(job("hangs_when", { hang: true }));
    const [a, b, c] = pool.runChain(job("hangs_when"), [
      { fn: "hangs_when", jobId: "b", attempt: 1 },
      { fn: "hangs_when", jobId: "c", attempt: 1 },
    ]);
    assertEquals(failure(await hung).name, "JobTimeoutError");
    assertEquals(output((await a)!), { steps: 1 });
    assertEquals(
      output((await b)!),
      { steps: 2 },
      "its input: the first one's document and output",
    );
    assertEquals(output((await c)!), { steps: 3 });
  });
});

Deno.test("the followers of a job stopped for its time never run, though it ended well after all", async () => {
  await withPool({ size: 1, depth: 4 }, async (pool) => {
    // 400 ms against a limit of 300 and a grace of 200: it ends, but too late. Had its
    // follower run (another 400 ms), the next job would have waited behind it and timed out.
    const [a, b] = pool.runChain(job("hangs_when", { ms: 400 }), [
      { fn: "hangs_when", jobId: "b", attempt: 1 },
    ]);
    assertEquals(failure((await a)!).name, "JobTimeoutError");
    assertEquals(await b, undefined);
    assertEquals(output(await pool.run(job("hangs_when"))), { steps: 1 });
  });
});

Deno.test("a follower cancelled while its chain waits in the host never begins", async () => {
  await withPool({ size: 1, depth: 4 }, async (pool) => {
    assertEquals(output(await pool.run(job("ok", { n: 0 }))), { n: 1 }); // Its worker is warm.
    const busy = pool.run(job("slow", { ms: 300 })); // Another function: the rest waits.
    // A job of the chain's function ahead of it: both go to that worker in one message.
    const before = pool.run(job("ok", { n: 0 }));
    const cancel = new AbortController();
    const [a, b] = pool.runChain(job("ok", { n: 1 }), [
      { fn: "ok", jobId: "b", attempt: 1, signal: cancel.signal },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    cancel.abort();
    assertEquals(output(await busy).waited, 300);
    assertEquals(output(await before), { n: 1 });
    assertEquals(output((await a)!), { n: 2 });
    assertEquals(failure((await b)!).name, "JobCancelledError");
  });
});
