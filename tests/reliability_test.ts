/**
 * Nothing lost under stress: deadlines, back-pressure, and brokers killed in a loop.
 * Counts and times are bounded; nothing asserts how fast anything is.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";

const WAIT = { timeoutMs: 120_000 };

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
  // A fixed schedule: kill the oldest live broker, start a new one, four times.
  for (let round = 0; round < 4; round++) {
    await new Promise((resolve) => setTimeout(resolve, 600));
    const victim = cluster.brokers.find((b) => !b.killed)!;
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
