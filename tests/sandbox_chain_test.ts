/**
 * Chains (a -> b -> c) on one slot, seen through a real Router: each job runs after
 * the one before with the document so far, and a chain stops at a job that does not
 * succeed. "Never began" is read from the record (no attempt, no start) and, where
 * the follower would have crashed its host, from `/proc` (the host is the same one).
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { delay } from "./_helpers.ts";
import type { JobRecord, PipelineResult, PipelineSpec } from "../mod.ts";
import {
  descendants,
  errorOf,
  jobOf,
  outputOf,
  run,
  runOne,
  tempDir,
  WAIT_MS,
} from "./_sandbox.ts";

/** Fails unless every job named never began. */
function neverBegan(result: PipelineResult, status: JobRecord["status"], ...jobIds: string[]) {
  for (const jobId of jobIds) {
    const job = jobOf(result, jobId);
    assertEquals(
      [job.status, job.attempts, job.startedAt, job.output],
      [status, 0, undefined, undefined],
      `${jobId} never began: ${JSON.stringify(job)}`,
    );
  }
}

/**
 * Fails if a process appeared under the broker since `before` was taken: a host that
 * ran the `oom` follower would have been replaced. (One may have left: a broker can
 * stop a host it keeps only while busy.)
 */
function noNewHost(broker: number, before: number[]) {
  const added = descendants(broker).filter((pid) => !before.includes(pid));
  assertEquals(added, [], "no host was replaced: none ran the follower");
}

/** Fails unless each job started after the one before it ended, all on one host. */
function oneAfterAnother(result: PipelineResult) {
  for (let at = 1; at < result.jobs.length; at++) {
    const [before, job] = [result.jobs[at - 1]!, result.jobs[at]!];
    assert(job.startedAt! >= before.finishedAt!, `${job.jobId} after ${before.jobId}`);
    assertEquals(job.broker, before.broker, `${job.jobId} on the host of ${before.jobId}`);
  }
}

Deno.test("a chain runs job after job with the document so far, and stops at one that does not succeed", async (t) => {
  await using functions = await tempDir();
  await using cluster = await Cluster.start({
    functionsDir: functions.path,
    workers: 1,
    waitFor: ["ok", "tag", "tag_n", "throws", "oom", "slow", "hangs_when"],
  });
  const { manager } = cluster;
  const broker = cluster.brokers[0]!;
  /** The chain `ids[0] -> ids[1] -> ...`, each job running `fns[i]`. */
  const chain = (ids: string[], fns: string[], data: PipelineSpec["data"] = {}): PipelineSpec => ({
    graph: Object.fromEntries(ids.slice(0, -1).map((id, at) => [id, ids[at + 1]!])),
    jobs: Object.fromEntries(ids.map((id, at) => [id, fns[at]!])),
    data,
  });

  await t.step(
    "a chain runs each job after the one before on one host, with that one's document and output as input",
    async () => {
      const result = await run(
        cluster,
        chain(["first", "narrow", "wide"], ["ok", "tag_n", "tag"], { n: 1, wide: true }),
      );
      assertEquals(outputOf(result, "first"), { n: 2, wide: true });
      assertEquals(outputOf(result, "narrow"), { narrow: ["n"] }, "narrowed to its requires");
      assertEquals(
        outputOf(result, "wide"),
        { wide: ["n", "narrow", "wide"] },
        "the whole document: the first job's, merged with each output",
      );
      assertEquals(result.document, { n: 2, narrow: ["n"], wide: ["n", "narrow", "wide"] });
      oneAfterAnother(result);
    },
  );

  await t.step(
    "a chain stops at a job that does not succeed: the jobs after it never begin",
    async () => {
      const hosts = descendants(broker.pid);
      // Had the host begun the follower, running out of memory would have replaced it.
      const result = await run(cluster, chain(["a", "b", "c"], ["throws", "oom", "ok"]));
      assertEquals(errorOf(result, "a").name, "RangeError");
      neverBegan(result, "skipped", "b", "c");
      assertEquals(outputOf(await runOne(cluster, "ok", { n: 0 })), { n: 1 });
      noNewHost(broker.pid, hosts);
    },
  );

  await t.step("followers cancelled before their turn never begin", async () => {
    const hosts = descendants(broker.pid);
    const id = await manager.start(chain(["a", "b", "c"], ["slow", "oom", "tag"], { ms: 300 }));
    await delay(100);
    await manager.cancel(id);
    const result = await manager.wait(id, { timeoutMs: WAIT_MS });
    assertEquals(result.status, "cancelled");
    assertEquals(jobOf(result, "a").status, "cancelled");
    neverBegan(result, "cancelled", "b", "c");
    assertEquals(outputOf(await runOne(cluster, "ok", { n: 0 })), { n: 1 });
    noNewHost(broker.pid, hosts);
  });

  await t.step(
    "followers of the same function run on, each with the document before it; another function's follower comes after",
    async () => {
      const result = await run(
        cluster,
        chain(["a", "b", "c", "d"], ["tag", "tag", "tag_n", "tag"], { n: 1, wide: true }),
      );
      assertEquals(outputOf(result, "a"), { a: ["n", "wide"] });
      assertEquals(
        outputOf(result, "b"),
        { b: ["a", "n", "wide"] },
        "the first job's document and output",
      );
      assertEquals(outputOf(result, "c"), { c: ["n"] }, "narrowed to its requires");
      assertEquals(outputOf(result, "d"), { d: ["a", "b", "c", "n", "wide"] });
      oneAfterAnother(result);
    },
  );

  await t.step(
    "a chain of one function stops at a failure, and followers cancelled before their turn never begin",
    async () => {
      const failed = await run(cluster, chain(["a", "b", "c"], ["throws", "throws", "throws"]));
      assertEquals(errorOf(failed, "a").name, "RangeError");
      neverBegan(failed, "skipped", "b", "c");
      const id = await manager.start(chain(["d", "e", "f"], ["slow", "slow", "slow"], { ms: 300 }));
      await delay(100);
      await manager.cancel(id);
      const cancelled = await manager.wait(id, { timeoutMs: WAIT_MS });
      assertEquals([cancelled.status, jobOf(cancelled, "d").status], ["cancelled", "cancelled"]);
      neverBegan(cancelled, "cancelled", "e", "f");
      assertEquals(outputOf(await runOne(cluster, "ok", { n: 0 })), { n: 1 });
    },
  );

  await t.step(
    "a chain of one function waiting behind a job whose worker is terminated runs, followers and all",
    async () => {
      // The first job overruns and ignores its signal: its Web Worker is terminated
      // with the chain of the same function waiting behind it.
      const hung = await manager.start({ graph: { hangs_when: [] }, data: { hang: true } });
      const steps = await manager.start(
        chain(["a", "b", "c"], ["hangs_when", "hangs_when", "hangs_when"]),
      );
      assertEquals(
        errorOf(await manager.wait(hung, { timeoutMs: WAIT_MS })).name,
        "JobTimeoutError",
      );
      const result = await manager.wait(steps, { timeoutMs: WAIT_MS });
      assertEquals(outputOf(result, "a"), { steps: 1 });
      assertEquals(
        outputOf(result, "b"),
        { steps: 2 },
        "its input: the first one's document and output",
      );
      assertEquals(outputOf(result, "c"), { steps: 3 });
    },
  );

  await t.step(
    "the followers of a job stopped for its time never run, though it ended well after all",
    async () => {
      // 400 ms against a limit of 300: it ends, but too late. Had its follower run
      // (another 400 ms), the next job would have waited behind it and timed out.
      const result = await run(
        cluster,
        chain(["a", "b"], ["hangs_when", "hangs_when"], { ms: 400 }),
      );
      assertEquals(errorOf(result, "a").name, "JobTimeoutError");
      neverBegan(result, "skipped", "b");
      assertEquals(outputOf(await runOne(cluster, "hangs_when")), { steps: 1 });
    },
  );

  await t.step(
    "a chain cancelled while it waits behind other jobs never begins; the jobs ahead end well",
    async () => {
      assertEquals(outputOf(await runOne(cluster, "ok", { n: 0 })), { n: 1 }); // Its worker is warm.
      const busy = await manager.start({ graph: { slow: [] }, data: { ms: 300 } }); // Another function.
      const before = await manager.start({ graph: { ok: [] }, data: { n: 0 } }); // Same as the chain.
      const waiting = await manager.start(chain(["a", "b"], ["ok", "ok"], { n: 1 }));
      await delay(100);
      await manager.cancel(waiting);
      assertEquals(outputOf(await manager.wait(busy, { timeoutMs: WAIT_MS })).waited, 300);
      assertEquals(outputOf(await manager.wait(before, { timeoutMs: WAIT_MS })), { n: 1 });
      const cancelled = await manager.wait(waiting, { timeoutMs: WAIT_MS });
      assertEquals(cancelled.status, "cancelled");
      // Its first job may wait at the Router or in the host (sent ahead); it never runs.
      assertEquals([jobOf(cancelled, "a").status, jobOf(cancelled, "a").output], [
        "cancelled",
        undefined,
      ]);
      neverBegan(cancelled, "cancelled", "b");
    },
  );
});
