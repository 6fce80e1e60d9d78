/**
 * A map survives its drivers: kill -9 the pipeliner, or the Router, in the middle of
 * a map of 300 slow items; every item's outcome is recorded once (no item that had
 * finished runs again), and the result is right.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import type { JsonObject, MapItemRecord, PipelineSpec } from "../mod.ts";

const WAIT = { timeoutMs: 180_000 };
const N = 300;

function slowMap(ms = 40): PipelineSpec {
  return {
    graph: { fetch: "after" },
    jobs: { fetch: { fn: "map_item", map: "list" }, after: "tag" },
    data: { list: Array.from({ length: N }, (_, i) => `u${i}`), ms },
  };
}

async function items(cluster: Cluster, id: string): Promise<MapItemRecord[]> {
  const response = await fetch(`${cluster.http}/pipelines/${id}/jobs/fetch/items?limit=1000`);
  assertEquals(response.status, 200);
  return (await response.json() as { items: MapItemRecord[] }).items;
}

/** Waits until at least `n` items succeeded, and returns the finished ones as they stand. */
async function finishedAtLeast(cluster: Cluster, id: string, n: number) {
  const deadline = Date.now() + 60_000;
  while (true) {
    const done = (await items(cluster, id)).filter((item) => item.status === "succeeded");
    if (done.length >= n) return done;
    if (Date.now() > deadline) {
      throw new Error(`only ${done.length} items ended\n${cluster.logs()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What must hold at the end: every item succeeded once, in order; those seen finished kept their run. */
async function checkEnd(cluster: Cluster, id: string, before: MapItemRecord[]) {
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "succeeded", `${JSON.stringify(result.error)}\n${cluster.logs()}`);
  const outputs = result.document.fetch as JsonObject[];
  assertEquals(
    outputs.map((o) => [o.value, o.index]),
    Array.from({ length: N }, (_, i) => [`u${i}`, i]),
  );
  const after = await items(cluster, id);
  assertEquals(after.length, N);
  assert(after.every((item) => item.status === "succeeded"), "every item succeeded");
  for (const item of before) {
    // Same run id, same attempt count: it did not run again after the kill.
    assertEquals(after[item.index]?.output?.run, item.output?.run, `item ${item.index} ran again`);
    assertEquals(after[item.index]?.attempts, item.attempts);
    assertEquals(outputs[item.index]?.run, item.output?.run);
  }
  return after;
}

Deno.test("kill -9 the pipeliner during a map of 300 slow items: another takes over, no finished item runs again", async () => {
  await using cluster = await Cluster.start({
    workers: 4,
    waitFor: ["map_item", "tag"],
    // A dead pipeliner is noticed within a second, well before the map ends.
    routerArgs: ["--heartbeat-ms", "200", "--peer-timeout-ms", "1000"],
  });
  const id = await cluster.manager.start(slowMap(100));
  const before = await finishedAtLeast(cluster, id, 40);
  const second = cluster.addPipeliner();
  await second.waitForOutput("joined the Router");
  const first = cluster.pipeliners[0]!;
  first.kill("SIGKILL");
  await first.status;
  // The Router lets go of the dead one while the map still runs: the new one takes it over mid-map.
  await until(async () => (await health(cluster)).pipeliners === 1, "the dead pipeliner dropped");
  const left = (await items(cluster, id)).filter((item) => item.status !== "succeeded").length;
  assert(left > 0, "the takeover came in the middle of the map");
  const after = await checkEnd(cluster, id, before);
  // The map ran on without its pipeliner: items in flight at the takeover did not run again either.
  assert(after.every((item) => item.attempts === 1), "no item ran twice");
});

async function health(cluster: Cluster): Promise<{ pipeliners: number }> {
  return await (await fetch(`${cluster.http}/health`)).json();
}

async function until(done: () => Promise<boolean>, what: string) {
  const deadline = Date.now() + 30_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not in time`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("kill -9 the Router during a map of 300 slow items: it resumes from the stored items", async () => {
  await using cluster = await Cluster.start({ workers: 4, waitFor: ["map_item", "tag"] });
  const id = await cluster.manager.start(slowMap());
  const before = await finishedAtLeast(cluster, id, 40);
  cluster.router.kill("SIGKILL");
  await cluster.router.status;
  cluster.restartRouter();
  await checkEnd(cluster, id, before);
  assert(before.length < N, "the kill came in the middle of the map");
});
