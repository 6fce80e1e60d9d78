/**
 * Pipelines end to end: real Router, Broker and Pipeliner subprocesses on free
 * ports, real Web Workers, real SQLite.
 */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { Job, Pipeline, PipelineValidationError } from "../mod.ts";

const WAIT = { timeoutMs: 30_000 };

Deno.test("a chain of jobs passes each output to the next", async () => {
  await using cluster = await Cluster.start();
  const pipeline = new Pipeline(
    new Map([[new Job("ok", "first"), new Job("ok", "second")]]),
    { data: { n: 1 } },
  );
  const id = await cluster.manager.start(pipeline);
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "succeeded", cluster.logs());
  assertEquals(result.document.n, 3);
  assertEquals(result.jobs.map((j) => [j.jobId, j.status, j.attempts]), [
    ["first", "succeeded", 1],
    ["second", "succeeded", 1],
  ]);
  assert(await cluster.manager.finished(id));
});

Deno.test("run() submits and waits in one request; a repeat under its idempotency key runs nothing again", async () => {
  await using cluster = await Cluster.start({ waitFor: ["slow"] });
  const spec = { graph: { slow: [] }, data: { ms: 300 } };
  const result = await cluster.manager.run(spec, { ...WAIT, idempotencyKey: "run-once" });
  assertEquals(result.status, "succeeded", cluster.logs());
  assertEquals(result.document.waited, 300, "it waited past the job, not just the submit");
  const again = await cluster.manager.run(spec, { ...WAIT, idempotencyKey: "run-once" });
  assertEquals(again.id, result.id);
  assertEquals(again.jobs[0]?.attempts, 1);
  // The key wins over a spec that would not validate now: it names the first pipeline.
  const same = await cluster.manager.run({ graph: { nope: [] } }, {
    ...WAIT,
    idempotencyKey: "run-once",
  });
  assertEquals(same.id, result.id);
  await assertRejects(
    () => cluster.manager.run({ graph: { nope: [] } }, WAIT),
    PipelineValidationError,
  );
});

Deno.test("one-job pipelines and chains need no pipeliner; a pipeline with a fork waits for one", async () => {
  await using cluster = await Cluster.start({ pipeliners: 0, waitFor: ["ok", "throws", "tag"] });
  const fork = await cluster.manager.start({
    graph: { first: ["second", "third"] },
    jobs: { first: "ok", second: "ok", third: "ok" },
    data: { n: 1 },
  });
  const alone = await cluster.manager.run({ graph: { ok: [] }, data: { n: 41 } }, WAIT);
  assertEquals([alone.status, alone.document.n], ["succeeded", 42], cluster.logs());
  assertEquals(alone.jobs.map((j) => [j.status, j.attempts]), [["succeeded", 1]]);
  const failed = await cluster.manager.run({ graph: { throws: [] }, data: { n: 1 } }, WAIT);
  assertEquals(failed.status, "failed");
  assertEquals(failed.jobs[0]?.error?.name, "RangeError");
  assertEquals(failed.error?.message, 'Job "throws" failed: Nothing to see here');
  assertEquals(failed.document, { n: 1 });
  // A chain longer than a plan reaches (PLAN_DEPTH), each job after the one before.
  const ids = Array.from({ length: 12 }, (_, i) => `j${i}`);
  const long = await cluster.manager.run({
    graph: Object.fromEntries(ids.slice(0, -1).map((id, i) => [id, ids[i + 1]!])),
    jobs: Object.fromEntries(ids.map((id) => [id, "ok"])),
    data: { n: 0 },
  }, WAIT);
  assertEquals([long.status, long.document.n], ["succeeded", 12], cluster.logs());
  assertEquals(long.jobs.map((j) => j.status), ids.map(() => "succeeded"));
  // A chain that fails half way: the rest is skipped, the document holds what succeeded.
  const broken = await cluster.manager.run({
    graph: { a: "b", b: "c", c: "d" },
    jobs: { a: "ok", b: "tag", c: "throws", d: "ok" },
    data: { n: 1 },
  }, WAIT);
  assertEquals(broken.status, "failed");
  assertEquals(broken.jobs.map((j) => j.status), ["succeeded", "succeeded", "failed", "skipped"]);
  assertEquals(broken.document, { n: 2, b: ["n"] });
  assertEquals(broken.error?.message, 'Job "c" failed: Nothing to see here');
  // All that ended while the fork, with nobody to drive it, never started.
  assertEquals((await cluster.manager.status(fork)).status, "queued");
  cluster.addPipeliner();
  const result = await cluster.manager.wait(fork, WAIT);
  assertEquals([result.status, result.document.n], ["succeeded", 3], cluster.logs());
});

Deno.test("a diamond merges documents: the fan-in job sees every ancestor, siblings do not see each other", async () => {
  await using cluster = await Cluster.start({ waitFor: ["tag"] });
  const id = await cluster.manager.start({
    graph: { a: ["b", "c"], b: "d", c: "d" },
    jobs: { a: "tag", b: "tag", c: "tag", d: "tag" },
    data: { start: true },
  });
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "succeeded", cluster.logs());
  assertEquals(result.document.a, ["start"]);
  assertEquals(result.document.b, ["a", "start"]);
  assertEquals(result.document.c, ["a", "start"]);
  assertEquals(result.document.d, ["a", "b", "c", "start"]);
});

Deno.test("a function that throws fails its job and the pipeline, and skips the rest", async () => {
  await using cluster = await Cluster.start({ waitFor: ["ok", "throws"] });
  const id = await cluster.manager.start({ graph: { throws: ["ok"] } });
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "failed");
  const [thrower, skipped] = result.jobs;
  assertEquals(thrower?.status, "failed");
  assertEquals(thrower?.error?.name, "RangeError");
  assertEquals(thrower?.error?.message, "Nothing to see here");
  assert(thrower?.error?.stack?.includes("throws.ts"), "the stack names the module");
  assertEquals(skipped?.status, "skipped");
  assert(result.error?.message.includes("Nothing to see here"));
});

Deno.test("once a job has failed for good, no job starts, not even one planned to follow a success", async () => {
  await using cluster = await Cluster.start({ waitFor: ["slow", "ok", "throws"] });
  const result = await cluster.manager.run({
    graph: { a: "b", x: [] },
    jobs: { a: "slow", b: "ok", x: "throws" },
    data: { ms: 500, n: 1 },
  }, WAIT);
  assertEquals(result.status, "failed", cluster.logs());
  const status = Object.fromEntries(result.jobs.map((job) => [job.jobId, job.status]));
  assertEquals(status, { a: "succeeded", b: "skipped", x: "failed" });
  assertEquals(result.jobs.find((job) => job.jobId === "b")?.attempts, 0);
});

Deno.test("a failed attempt is retried as the function's config allows", async () => {
  await using cluster = await Cluster.start({
    waitFor: ["flaky"],
    routerArgs: ["--retry-base-ms", "10"],
  });
  const id = await cluster.manager.start({ graph: { flaky: [] } });
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "succeeded", cluster.logs());
  assertEquals(result.document.flakyAttempt, 2);
  assertEquals(result.jobs[0]?.attempts, 2);
  assertEquals(result.jobs[0]?.attemptErrors?.length, 1);
});

Deno.test("a job gets its retries, whatever attempt numbers the jobs before it spent", async () => {
  await using cluster = await Cluster.start({
    waitFor: ["flaky", "always_fails"],
    routerArgs: ["--retry-base-ms", "10"],
  });
  // Each run of `flaky` offers the broker the next job to start after it, and each offer
  // spends an attempt number of that job, run or not.
  const id = await cluster.manager.start({ graph: { flaky: "always_fails" } });
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "failed", cluster.logs());
  const failing = result.jobs.find((job) => job.jobId === "always_fails")!;
  assertEquals(failing.attempts, 2, "one run and its one retry");
  assertEquals(failing.attemptErrors?.length, 2);
});

Deno.test("a function that never returns times out and the broker keeps serving", async () => {
  await using cluster = await Cluster.start({ waitFor: ["ok", "hangs"] });
  const hung = await cluster.manager.start({ graph: { hangs: [] } });
  const fine = await cluster.manager.start({ graph: { ok: [] }, data: { n: 41 } });
  const [h, f] = await Promise.all([
    cluster.manager.wait(hung, WAIT),
    cluster.manager.wait(fine, WAIT),
  ]);
  assertEquals(h.status, "failed");
  assertEquals(h.jobs[0]?.error?.name, "JobTimeoutError");
  assertEquals(f.status, "succeeded");
  assertEquals(f.document.n, 42);
});

Deno.test("a function that exhausts memory fails alone, as poison after 3 crashes; other jobs finish", async () => {
  await using cluster = await Cluster.start({ waitFor: ["ok", "oom", "slow"] });
  const hog = await cluster.manager.start({ graph: { oom: [] } });
  const others = await Promise.all(
    [1, 2, 3].map((n) => cluster.manager.start({ graph: { slow: ["ok"] }, data: { n, ms: 50 } })),
  );
  const result = await cluster.manager.wait(hog, WAIT);
  assertEquals(result.status, "failed");
  // Each attempt kills its host; after 3 crashes the job fails as poison, not in a loop.
  assertEquals(result.jobs[0]?.error?.name, "PoisonJobError");
  assertEquals(result.jobs[0]?.attempts, 3);
  assertEquals(result.jobs[0]?.attemptErrors?.map((e) => e.name), [
    "OutOfMemoryError",
    "OutOfMemoryError",
    "OutOfMemoryError",
  ]);
  for (const [index, id] of others.entries()) {
    const other = await cluster.manager.wait(id, WAIT);
    assertEquals(other.status, "succeeded", cluster.logs());
    assertEquals(other.document.n, index + 2);
  }
});

Deno.test("jobs a worker host held behind one that took it down run again, without counting a run", async () => {
  // One host: the jobs sent after the hog wait in it, behind the hog, when it dies.
  await using cluster = await Cluster.start({ workers: 1, waitFor: ["ok", "oom"] });
  const hog = await cluster.manager.start({ graph: { oom: [] } });
  const held = await Promise.all(
    [1, 2, 3].map((n) => cluster.manager.start({ graph: { ok: [] }, data: { n } })),
  );
  const hogged = await cluster.manager.wait(hog, WAIT);
  assertEquals(hogged.jobs[0]?.attemptErrors?.[0]?.name, "OutOfMemoryError", cluster.logs());
  for (const [index, id] of held.entries()) {
    const result = await cluster.manager.wait(id, WAIT);
    assertEquals(result.status, "succeeded", cluster.logs());
    assertEquals(result.document.n, index + 2);
    assertEquals([result.jobs[0]?.attempts, result.jobs[0]?.attemptErrors], [1, undefined]);
  }
});

Deno.test("reading a file or opening a socket without permission fails the job, not the broker", async () => {
  await using cluster = await Cluster.start({ waitFor: ["reads_file", "opens_socket", "ok"] });
  for (const fn of ["reads_file", "opens_socket"]) {
    const result = await cluster.manager.wait(
      await cluster.manager.start({ graph: { [fn]: [] } }),
      WAIT,
    );
    assertEquals(result.status, "failed");
    assertEquals(result.jobs[0]?.error?.name, "NotCapable", JSON.stringify(result.jobs[0]));
  }
  const after = await cluster.manager.wait(
    await cluster.manager.start({ graph: { ok: [] } }),
    WAIT,
  );
  assertEquals(after.status, "succeeded");
});

Deno.test("one function can appear twice in a pipeline under two job ids", async () => {
  await using cluster = await Cluster.start();
  const id = await cluster.manager.start({
    graph: { one: ["two"] },
    jobs: { one: "ok", two: "ok" },
    data: { n: 10 },
  });
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "succeeded");
  assertEquals(result.document.n, 12);
  assertEquals(result.jobs.map((j) => j.fn), ["ok", "ok"]);
});

Deno.test("invalid pipelines are rejected with every problem and nothing is stored", async () => {
  await using cluster = await Cluster.start();
  const error = await assertRejects(
    () =>
      cluster.manager.start({
        graph: { a: ["b"], b: ["a"], nope: [] },
        jobs: { a: "ok", b: "ok" },
      }),
    PipelineValidationError,
  );
  assert(error.problems.some((p) => p.includes("Cycle")), error.message);
  assert(error.problems.some((p) => p.includes('"nope"')), error.message);
  await assertRejects(() => cluster.manager.start({ graph: {} }), PipelineValidationError);
  const page = await cluster.manager.status("not-a-pipeline").catch((e) => e);
  assertEquals(page.name, "PipelineNotFoundError");
});

Deno.test("200 pipelines over 2 brokers and 2 pipeliners all succeed with correct documents", async () => {
  await using cluster = await Cluster.start({ brokers: 2, pipeliners: 2 });
  await cluster.waitForFunctions(["ok"]);
  // Both brokers should be in before the burst.
  while ((await cluster.manager.functions()).find((f) => f.name === "ok")!.brokers.length < 2) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const ids = await Promise.all(
    Array.from(
      { length: 200 },
      (_, n) =>
        cluster.manager.start({ graph: { a: "b" }, jobs: { a: "ok", b: "ok" }, data: { n } }),
    ),
  );
  const results = await Promise.all(
    ids.map((id) => cluster.manager.wait(id, { timeoutMs: 60_000 })),
  );
  const brokers = new Set<string>();
  results.forEach((result, n) => {
    assertEquals(result.status, "succeeded");
    assertEquals(result.document.n, n + 2);
    // A job's broker is the worker host that ran it: `<broker>/host-<k>`.
    for (const job of result.jobs) brokers.add(job.broker!.split("/host-")[0]!);
  });
  assertEquals(brokers.size, 2, "both brokers ran jobs");
});
