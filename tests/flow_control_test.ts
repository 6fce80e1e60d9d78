/**
 * Flow control with real daemons (2 brokers of 2 slots): a function's concurrency,
 * per key, and rate limits hold across the cluster, a higher priority starts first,
 * a delayed pipeline waits, and a rate limit holds across a kill -9 of the Router.
 * Every figure comes from the jobs' start and end times the Router recorded.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import type { JobRecord, PipelineRecord } from "../mod.ts";

const FUNCTIONS = "tests/fixtures/limits";
const WAIT = { timeoutMs: 60_000 };
const LIMITED = ["limited", "keyed", "rated", "rated_slowly", "free"];

function start2x2(): Promise<Cluster> {
  return Cluster.start({ brokers: 2, workers: 2, functionsDir: FUNCTIONS, waitFor: LIMITED });
}

/** Submits one one-job pipeline per `data`, and waits for them all; returns their jobs. */
async function runAll(
  cluster: Cluster,
  fn: string,
  data: Array<Record<string, string | number>>,
): Promise<JobRecord[]> {
  const ids = await Promise.all(
    data.map((d) => cluster.manager.start({ graph: { [fn]: [] }, data: d })),
  );
  const results = await Promise.all(ids.map((id) => cluster.manager.wait(id, WAIT)));
  for (const r of results) assertEquals(r.status, "succeeded", cluster.logs());
  return results.map((r) => r.jobs[0]!);
}

/** The most jobs whose recorded [start, end) intervals overlap at once. */
function mostAtOnce(jobs: JobRecord[]): number {
  const edges = jobs.flatMap((j) => [[j.startedAt!, 1], [j.finishedAt!, -1]] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]); // An end before a start at the same ms.
  let now = 0, most = 0;
  for (const [, step] of edges) most = Math.max(most, now += step);
  return most;
}

Deno.test("flow control on 2 brokers of 2 slots", async (t) => {
  await using cluster = await start2x2();

  await t.step(
    "concurrency: 2 never has more than 2 attempts at once, while other slots run other functions",
    async () => {
      const [limited, free] = await Promise.all([
        runAll(cluster, "limited", Array.from({ length: 10 }, () => ({ ms: 300 }))),
        runAll(cluster, "free", Array.from({ length: 6 }, () => ({ ms: 600 }))),
      ]);
      assertEquals(mostAtOnce(limited), 2, "at most 2 of limited, and 2 reached");
      // Other functions ran beside it: more than 2 jobs in all at once.
      assert(mostAtOnce([...limited, ...free]) > 2, "free used the slots limited may not");
    },
  );

  await t.step("concurrencyKey limits each key apart", async () => {
    const data = ["a", "b", "c"].flatMap((customer) =>
      Array.from({ length: 3 }, () => ({ customer, ms: 300 }))
    );
    const ids = await Promise.all(
      data.map((d) => cluster.manager.start({ graph: { keyed: [] }, data: d })),
    );
    const results = await Promise.all(ids.map((id) => cluster.manager.wait(id, WAIT)));
    const byCustomer = new Map<string, JobRecord[]>();
    for (const r of results) {
      assertEquals(r.status, "succeeded", cluster.logs());
      const customer = String(r.document.customer);
      byCustomer.set(customer, [...(byCustomer.get(customer) ?? []), r.jobs[0]!]);
    }
    for (const [customer, jobs] of byCustomer) assertEquals(mostAtOnce(jobs), 1, customer);
    assert(mostAtOnce(results.map((r) => r.jobs[0]!)) > 1, "different customers ran at once");
  });

  await t.step(
    "rateLimit {max: 5, perMs: 1000} over 20 jobs: starts spread over 3 s or more, 5 at most in any 1 s",
    async () => {
      const jobs = await runAll(cluster, "rated", Array.from({ length: 20 }, () => ({ ms: 10 })));
      const starts = jobs.map((j) => j.startedAt!).sort((a, b) => a - b);
      assert(
        starts.at(-1)! - starts[0]! >= 3000,
        `starts spread over ${starts.at(-1)! - starts[0]!} ms`,
      );
      for (const from of starts) {
        const inWindow = starts.filter((at) => at >= from && at < from + 1000).length;
        assert(
          inWindow <= 5,
          `${inWindow} starts in the second from ${from}: ${starts.join(", ")}`,
        );
      }
    },
  );

  await t.step(
    "a priority-9 pipeline submitted behind 200 queued priority-0 jobs starts within one slot turnover",
    async () => {
      const low = await Promise.all(
        Array.from(
          { length: 200 },
          () => cluster.manager.start({ graph: { free: [] }, data: { ms: 200 } }),
        ),
      );
      const submitted = Date.now();
      const high = await cluster.manager.start({
        graph: { free: [] },
        data: { ms: 200 },
        priority: 9,
      });
      const first = await cluster.manager.wait(high, WAIT);
      assertEquals(first.status, "succeeded", cluster.logs());
      const highStart = first.jobs[0]!.startedAt!;
      // Cancelled, not waited for: the rest of the queue is not the point.
      const passed = await Promise.all(low.map(async (id) => {
        const record: PipelineRecord = await cluster.manager.status(id);
        const at = record.jobs[0]?.startedAt;
        if (record.status === "queued" || record.status === "running") {
          await cluster.manager.cancel(id).catch(() => {});
        }
        return at !== undefined && at >= submitted && at < highStart;
      }));
      const before = passed.filter(Boolean).length;
      // At most one job per slot (4) took a slot between its submit and its start.
      assert(before <= 4, `${before} priority-0 jobs started after it was submitted and before it`);
    },
  );

  await t.step(
    "delayMs: 1500 stores the pipeline queued at once and starts no job before 1.5 s",
    async () => {
      const lone = await cluster.manager.start({
        graph: { free: [] },
        data: { ms: 10 },
        delayMs: 1500,
      });
      // A DAG with a fan-out goes through a pipeliner, which asks for its first job at once.
      const dag = await cluster.manager.start({
        graph: { first: ["left", "right"] },
        jobs: { first: "free", left: "free", right: "free" },
        data: { ms: 10 },
        delayMs: 1500,
      });
      for (const id of [lone, dag]) {
        const record = await cluster.manager.status(id);
        assertEquals(record.status, "queued");
        assertEquals(record.runAt, record.createdAt + 1500);
      }
      for (const id of [lone, dag]) {
        const result = await cluster.manager.wait(id, WAIT);
        assertEquals(result.status, "succeeded", cluster.logs());
        const record = await cluster.manager.status(id);
        assert(record.startedAt! >= record.createdAt + 1500, "the pipeline ran no earlier");
        for (const job of record.jobs) {
          assert(job.startedAt! >= record.createdAt + 1500, `${job.jobId} started early`);
        }
      }
    },
  );
});

Deno.test("HTTP: bad priority, delay or limits are listed at once; /metrics and /stats show what waits on a limit", async () => {
  await using cluster = await start2x2();
  const bad = await fetch(`${cluster.http}/pipelines`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ graph: { free: [] }, priority: 10, delayMs: -1, runAt: "soon" }),
  });
  assertEquals(bad.status, 400);
  const { problems } = await bad.json() as { problems: string[] };
  assertEquals(problems.length, 4, problems.join("\n"));
  const ids = await Promise.all(
    Array.from(
      { length: 6 },
      (_, i) =>
        cluster.manager.start({ graph: { limited: [] }, data: { ms: 1500 }, priority: i % 2 }),
    ),
  );
  const deadline = Date.now() + 20_000;
  let metrics = "";
  while (!metrics.includes('pipelinin_jobs_waiting_on_limit{function="limited"} 4')) {
    assert(Date.now() < deadline, metrics);
    await new Promise((resolve) => setTimeout(resolve, 50));
    metrics = await (await fetch(`${cluster.http}/metrics`)).text();
  }
  assert(metrics.includes('pipelinin_limited_jobs_running{function="limited"} 2'), metrics);
  const queued = [
    ...metrics.matchAll(/pipelinin_queued_jobs\{function="limited",priority="(\d)"\} (\d+)/g),
  ]
    .map((m) => [Number(m[1]), Number(m[2])]);
  assertEquals(queued.reduce((n, [, count]) => n + count!, 0), 4, metrics);
  const stats = await (await fetch(`${cluster.http}/stats`)).json() as {
    limits: Array<{ fn: string; concurrency?: number; waiting: number; running: number }>;
  };
  const limited = stats.limits.find((l) => l.fn === "limited");
  assertEquals([limited?.concurrency, limited?.running, limited?.waiting], [2, 2, 4]);
  await Promise.all(ids.map((id) => cluster.manager.cancel(id).catch(() => {})));
});

Deno.test("a rate limit holds across a kill -9 and restart of the Router", async () => {
  await using cluster = await start2x2();
  // 3 per 6 s: the first three start at once, the other two must wait out the window,
  // which the Router's restart falls in the middle of.
  const ids = await Promise.all(
    Array.from(
      { length: 5 },
      () => cluster.manager.start({ graph: { rated_slowly: [] }, data: { ms: 10 } }),
    ),
  );
  const deadline = Date.now() + 20_000;
  while (true) {
    const records = await Promise.all(ids.map((id) => cluster.manager.status(id)));
    if (records.filter((r) => r.status === "succeeded").length >= 3) break;
    if (Date.now() > deadline) throw new Error(`3 never ran\n${cluster.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  cluster.router.kill("SIGKILL");
  await cluster.router.status;
  cluster.restartRouter();
  const results = await Promise.all(ids.map((id) => cluster.manager.wait(id, WAIT)));
  for (const r of results) assertEquals(r.status, "succeeded", cluster.logs());
  const starts = results.map((r) => r.jobs[0]!.startedAt!).sort((a, b) => a - b);
  assert(
    starts[3]! >= starts[0]! + 6000,
    `the 4th started ${starts[3]! - starts[0]!} ms after the 1st`,
  );
});

Deno.test("concurrency holds across a kill -9 and restart of the Router: attempts still running count", async () => {
  await using cluster = await start2x2();
  const ms = 3000;
  const ids = await Promise.all(
    Array.from(
      { length: 4 },
      () => cluster.manager.start({ graph: { limited: [] }, data: { ms } }),
    ),
  );
  const deadline = Date.now() + 20_000;
  while (true) {
    const records = await Promise.all(ids.map((id) => cluster.manager.status(id)));
    if (records.filter((r) => r.jobs[0]!.status === "running").length === 2) break;
    if (Date.now() > deadline) throw new Error(`2 never ran\n${cluster.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  cluster.router.kill("SIGKILL");
  await cluster.router.status;
  cluster.restartRouter();
  const results = await Promise.all(ids.map((id) => cluster.manager.wait(id, WAIT)));
  // The attempts that ran: each job's last (its output says when, by the function's
  // clock), and the first of those run again, from the Router's record of its start
  // (it ended no earlier than `ms` later; its result was dropped as late).
  const runs: JobRecord[] = [];
  for (const r of results) {
    assertEquals(r.status, "succeeded", cluster.logs());
    const job = r.jobs[0]!;
    const last = {
      ...job,
      startedAt: Number(r.document.startedAt),
      finishedAt: Number(r.document.endedAt),
    };
    runs.push(last);
    if (job.attempts > 1) runs.push({ ...job, finishedAt: job.startedAt! + ms });
  }
  assert(runs.length > 4, "some attempt ran through the restart");
  assert(
    mostAtOnce(runs) <= 2,
    `${mostAtOnce(runs)} at once: ${JSON.stringify(runs.map((r) => [r.startedAt, r.finishedAt]))}`,
  );
});
