/**
 * Nothing lost under stress: deadlines, back-pressure, and brokers killed in a loop.
 * Counts and times are bounded; nothing asserts how fast anything is.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";

const WAIT = { timeoutMs: 120_000 };

/** A small deterministic PRNG (mulberry32), so kill points repeat run to run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resident memory of a process, MiB (Linux). */
function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

Deno.test("a pipeline past its deadline fails, its running job is stopped and the slot serves again", async () => {
  await using cluster = await Cluster.start({ workers: 1, waitFor: ["slow", "ok"] });
  const id = await cluster.manager.start({
    graph: { slow: ["ok"] },
    data: { ms: 60_000 },
    deadlineMs: 500,
  });
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "failed");
  assertEquals(result.error?.name, "PipelineDeadlineError");
  assertEquals(result.jobs.map((j) => j.status), ["cancelled", "cancelled"]);
  // The only slot was freed by stopping the 60 s job: this runs long before it would end.
  const next = await cluster.manager.start({ graph: { ok: [] } });
  assertEquals((await cluster.manager.wait(next, { timeoutMs: 30_000 })).status, "succeeded");
});

Deno.test("10,000 pipelines submitted at once are each accepted or refused, never dropped", async () => {
  await using cluster = await Cluster.start({ routerArgs: ["--max-active", "1500"] });
  const outcomes = await Promise.all(
    Array.from(
      { length: 10_000 },
      (_, n) =>
        cluster.manager.start({ graph: { ok: [] }, data: { n } }).then(
          (id) => ({ n, id }),
          (error: Error) => ({ n, error: error.name }),
        ),
    ),
  );
  const accepted = outcomes.filter((o): o is { n: number; id: string } => "id" in o);
  const refused = outcomes.filter((o) => "error" in o);
  assertEquals(accepted.length + refused.length, 10_000);
  assert(accepted.length >= 1500, `accepted ${accepted.length}`);
  assert(refused.length > 0, "some were refused");
  for (const r of refused) assertEquals((r as { error: string }).error, "TooManyPipelinesError");
  for (const { n, id } of accepted) {
    const result = await cluster.manager.wait(id, WAIT);
    assertEquals([result.status, result.document.n], ["succeeded", n + 1]);
  }
  const page = await (await fetch(`${cluster.http}/pipelines?status=succeeded&limit=1`)).json();
  assertEquals(page.pipelines.length, 1);
  // Bounded memory: the refused ones left nothing behind (a generous ceiling, not a benchmark).
  const rss = rssMiB(cluster.router.pid);
  assert(rss < 512, `the Router holds ${rss.toFixed(0)} MiB after the burst`);
});

Deno.test("500 pipelines on two brokers while brokers are killed -9 in a loop: each succeeds once, right", async () => {
  await using cluster = await Cluster.start({
    brokers: 2,
    routerArgs: ["--heartbeat-ms", "200", "--peer-timeout-ms", "1000", "--retry-base-ms", "10"],
    waitFor: ["slow", "ok"],
  });
  const ids = await Promise.all(
    Array.from({ length: 500 }, (_, n) =>
      cluster.manager.start({
        graph: { a: "b" },
        jobs: { a: "slow", b: "ok" },
        data: { n, ms: 5 },
      })),
  );
  // Kill points from a fixed seed: a delay, then a live broker to kill -9, four times;
  // a new broker joins after each kill.
  const random = seeded(20261128);
  for (let round = 0; round < 4; round++) {
    await new Promise((resolve) => setTimeout(resolve, 300 + Math.floor(random() * 600)));
    const live = cluster.brokers.filter((b) => !b.killed);
    const victim = live[Math.floor(random() * live.length)]!;
    victim.kill("SIGKILL");
    victim.killed = true;
    cluster.addBroker();
  }
  const seen = new Set<string>();
  for (const [n, id] of ids.entries()) {
    const result = await cluster.manager.wait(id, WAIT);
    assertEquals(result.status, "succeeded", cluster.logs());
    assertEquals(result.document.n, n + 1);
    assertEquals(result.document.waited, 5);
    assertEquals(result.jobs.map((j) => j.status), ["succeeded", "succeeded"]);
    seen.add(id);
  }
  assertEquals(seen.size, 500);
  // Every daemon left is still serving.
  const last = await cluster.manager.start({ graph: { ok: [] } });
  assertEquals((await cluster.manager.wait(last, WAIT)).status, "succeeded");
});
