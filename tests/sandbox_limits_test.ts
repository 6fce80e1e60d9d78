/**
 * One slot, seen through a real Router: time limits, jobs that wait their turn in
 * order, jobs behind one that hangs or runs out of memory, and cancelling a running
 * or a waiting job. Outcomes and start/end times come from the pipelines' records.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { delay } from "./_helpers.ts";
import type { PipelineResult, PipelineSpec } from "../mod.ts";
import {
  errorOf,
  HANGS_LONG,
  jobOf,
  outputOf,
  runOne,
  slowWithLimit,
  tempDir,
  untilRunning,
  WAIT_MS,
} from "./_sandbox.ts";

Deno.test("one slot times jobs out, runs them one at a time in order, and cancels running or waiting ones", async (t) => {
  await using functions = await tempDir({
    "hangs_long.ts": HANGS_LONG,
    "slow_100.ts": slowWithLimit(100),
    "slow_400.ts": slowWithLimit(400),
  });
  await using cluster = await Cluster.start({
    functionsDir: functions.path,
    workers: 1,
    waitFor: ["ok", "slow", "hangs", "hangs_long", "slow_100", "slow_400", "spin", "oom"],
  });
  const { manager } = cluster;
  /** Submits pipelines one after the other (so in this order), then waits for them all. */
  const inOrder = async <S extends PipelineSpec[]>(
    ...specs: S
  ): Promise<{ [K in keyof S]: PipelineResult }> => {
    const ids = [];
    for (const spec of specs) ids.push(await manager.start(spec));
    const results = await Promise.all(ids.map((id) => manager.wait(id, { timeoutMs: WAIT_MS })));
    return results as { [K in keyof S]: PipelineResult };
  };
  const one = (fn: string, data: PipelineSpec["data"] = {}): PipelineSpec => ({
    graph: { [fn]: [] },
    data,
  });

  await t.step(
    "a function that hangs is stopped at its time limit, and the slot serves on",
    async () => {
      const hung = await runOne(cluster, "hangs");
      const error = errorOf(hung);
      assertEquals([error.name, error.message, error.retryable], [
        "JobTimeoutError",
        'Job "hangs" timed out after 500 ms',
        true,
      ]);
      const after = await runOne(cluster, "ok", { n: 1 });
      assertEquals(outputOf(after), { n: 2 });
      assertEquals(jobOf(after).broker, jobOf(hung).broker, "the same slot");
      // The limit is the function's own: slow_100 allows 100 ms.
      const limited = errorOf(await runOne(cluster, "slow_100", { ms: 5_000 }));
      assertEquals([limited.name, limited.message], [
        "JobTimeoutError",
        'Job "slow_100" timed out after 100 ms',
      ]);
    },
  );

  await t.step(
    "jobs for one slot run one at a time, in order, each timed from its own start",
    async () => {
      const [a, b, c] = (await inOrder(
        one("slow", { ms: 300 }),
        one("slow_400", { ms: 300 }), // Its 400 ms count from its own start, not from its turn.
        one("slow", { ms: 50 }),
      )).map((result) => outputOf(result));
      assert(a && b && c);
      assert(Number(b.startedAt) >= Number(a.endedAt), "the second waited for the first");
      assert(Number(c.startedAt) >= Number(b.endedAt), "the third waited for the second");
      assertEquals(b.waited, 300);
    },
  );

  await t.step(
    "jobs waiting behind a job that hangs or runs out of memory still run and succeed",
    async () => {
      const [hung, behindHung] = await inOrder(one("hangs"), one("ok", { n: 1 }));
      assertEquals(errorOf(hung).name, "JobTimeoutError");
      assertEquals(outputOf(behindHung), { n: 2 });
      const [hog, behindHog, last] = await inOrder(
        one("oom"),
        one("ok", { n: 2 }),
        one("slow", { ms: 10 }),
      );
      assertEquals(hog.status, "failed");
      assertEquals(jobOf(hog).attemptErrors?.[0]?.name, "OutOfMemoryError");
      assertEquals(outputOf(behindHog), { n: 3 });
      assertEquals(outputOf(last).waited, 10);
      assertEquals([jobOf(behindHog).attempts, jobOf(last).attempts], [1, 1]);
    },
  );

  await t.step(
    "cancelling stops a running job, one that ignores its signal, and one waiting its turn",
    async () => {
      const cooperative = await manager.start(one("slow", { ms: 20_000 }));
      await untilRunning(cluster, cooperative, "slow");
      await delay(100);
      await manager.cancel(cooperative);
      const stopped = await manager.wait(cooperative, { timeoutMs: WAIT_MS });
      assertEquals([stopped.status, jobOf(stopped).status], ["cancelled", "cancelled"]);

      const stubborn = await manager.start(one("hangs_long"));
      await untilRunning(cluster, stubborn, "hangs_long");
      const queued = await manager.start(one("ok"));
      await manager.cancel(queued);
      const waited = await manager.wait(queued, { timeoutMs: WAIT_MS });
      assertEquals([waited.status, jobOf(waited).status, jobOf(waited).output], [
        "cancelled",
        "cancelled",
        undefined,
      ]);
      await manager.cancel(stubborn);
      const hung = jobOf(await manager.wait(stubborn, { timeoutMs: WAIT_MS }));
      assertEquals(hung.status, "cancelled");
      for (const job of [jobOf(stopped), hung]) {
        // Each was allowed 20 s: it was stopped, it did not run to its end.
        assert(job.finishedAt! - job.startedAt! < 15_000, JSON.stringify(job));
      }
      assertEquals(outputOf(await runOne(cluster, "ok", { n: 1 })), { n: 2 }, "the slot serves on");
    },
  );

  await t.step(
    "cancelling a job waiting for the slot ends it at once; the running one goes on, even one that ignores signals",
    async () => {
      // `slow` listens to its signal; `spin` keeps its worker's thread busy, so that it
      // cannot even read a cancel until it is done: it must not be killed for that.
      for (const [fn, ms, field] of [["slow", 600, "waited"], ["spin", 1_500, "spun"]] as const) {
        const running = await manager.start(one(fn, { ms }));
        const queued = await manager.start(one(fn, { ms: 10 })); // Same function, same worker.
        await delay(100);
        await manager.cancel(queued);
        // Waiting at the Router or already in the host (sent ahead), it ends without running.
        const cancelled = await manager.wait(queued, { timeoutMs: WAIT_MS });
        assertEquals([cancelled.status, jobOf(cancelled).status, jobOf(cancelled).output], [
          "cancelled",
          "cancelled",
          undefined,
        ], fn);
        const done = await manager.wait(running, { timeoutMs: WAIT_MS });
        assertEquals(outputOf(done)[field], ms, `${fn}: the running job was not killed`);
        assert(
          jobOf(cancelled).finishedAt! < jobOf(done).finishedAt!,
          `${fn}: the waiting job ended before the running one`,
        );
      }
    },
  );
});
