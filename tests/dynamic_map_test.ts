/**
 * `map` jobs on a real cluster: each element of a list is an item with attempts of
 * its own, the outputs come back in order, a retried item reruns alone, and a long
 * map stays readable (items summed up in the record, each read on its own).
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import type { JsonObject, MapItemRecord, PipelineRecord } from "../mod.ts";

const WAIT = { timeoutMs: 120_000 };

/** A pipeline: `fetch` maps `map_item` over `data.list`, then `after` (tag) sees the document. */
function mapPipeline(list: unknown[], extra: JsonObject = {}, options: JsonObject = {}) {
  return {
    graph: { fetch: "after" },
    jobs: { fetch: { fn: "map_item", map: "list", ...options }, after: "tag" },
    data: { list, ...extra } as JsonObject,
  };
}

async function items(cluster: Cluster, id: string, jobId: string): Promise<MapItemRecord[]> {
  const all: MapItemRecord[] = [];
  for (let offset: number | undefined = 0; offset !== undefined;) {
    const response = await fetch(
      `${cluster.http}/pipelines/${id}/jobs/${jobId}/items?offset=${offset}&limit=1000`,
    );
    assertEquals(response.status, 200);
    const page = await response.json() as { items: MapItemRecord[]; next?: number };
    all.push(...page.items);
    offset = page.next;
  }
  return all;
}

function values(document: JsonObject, jobId: string): unknown[] {
  const list = document[jobId];
  assert(Array.isArray(list), `no list at ${jobId}`);
  return list.map((output) => {
    assert(typeof output === "object" && output !== null && !Array.isArray(output));
    return [output.value, output.index];
  });
}

Deno.test("maps of 0, 1 and 1,000 items give their outputs in order, and the children run", async () => {
  await using cluster = await Cluster.start({ waitFor: ["map_item", "tag"] });
  const sizes = [0, 1, 1000];
  const results = await Promise.all(
    sizes.map((n) =>
      cluster.manager.run(mapPipeline(Array.from({ length: n }, (_, i) => `u${i}`)), WAIT)
    ),
  );
  for (const [at, result] of results.entries()) {
    const n = sizes[at]!;
    assertEquals(result.status, "succeeded", `${n} items: ${JSON.stringify(result.error)}`);
    assertEquals(
      values(result.document, "fetch"),
      Array.from({ length: n }, (_, i) => [`u${i}`, i]),
    );
    // The child saw the map's output key.
    assert((result.document.after as string[]).includes("fetch"), JSON.stringify(result.document));
    const job = result.jobs.find((j) => j.jobId === "fetch")!;
    assertEquals(job.status, "succeeded");
    assertEquals(job.map, {
      items: n,
      pending: 0,
      running: 0,
      succeeded: n,
      failed: 0,
      cancelled: 0,
    });
  }
});

Deno.test("a retried item reruns alone: every other item ran once", async () => {
  await using cluster = await Cluster.start({ waitFor: ["map_item", "tag"] });
  const list = Array.from({ length: 20 }, (_, i) => `u${i}`);
  const result = await cluster.manager.run(mapPipeline(list, { failOnce: "u7" }), WAIT);
  assertEquals(result.status, "succeeded", JSON.stringify(result.error));
  const all = await items(cluster, result.id, "fetch");
  assertEquals(all.map((item) => item.attempts), list.map((item) => item === "u7" ? 2 : 1));
  assertEquals(all[7]?.attemptErrors?.map((e) => e.message), ["Item 7 fails its first attempt"]);
  const outputs = result.document.fetch as JsonObject[];
  assertEquals(outputs.map((o) => o.attempt), list.map((item) => item === "u7" ? 2 : 1));
});

Deno.test("a map over a missing key, or over no list, fails its job with a clear error", async () => {
  await using cluster = await Cluster.start({ waitFor: ["map_item", "tag"] });
  const missing = await cluster.manager.run({
    graph: { fetch: "after" },
    jobs: { fetch: { fn: "map_item", map: "nope" }, after: "tag" },
  }, WAIT);
  assertEquals(missing.status, "failed");
  assertEquals(
    missing.error?.message,
    `Job "fetch" failed: Job "fetch" maps over "nope", which its input does not have`,
  );
  assertEquals(missing.jobs.find((j) => j.jobId === "after")?.status, "skipped");
  const notList = await cluster.manager.run(mapPipeline([], { list: { a: 1 } }), WAIT);
  assertEquals(notList.status, "failed");
  assertEquals(notList.jobs[0]?.error?.name, "MapInputError");
  assertEquals(
    notList.jobs[0]?.error?.message,
    `Job "fetch" maps over "list", which is an object, not a list`,
  );
  // An item that fails for good fails the job, and says which.
  const failing = await cluster.manager.run(
    mapPipeline(["a", "b", "c"], { failAlways: "b" }, { mapConcurrency: 1 }),
    WAIT,
  );
  assertEquals(failing.status, "failed");
  assertEquals(failing.error?.message, `Job "fetch" failed: Item 1 failed: Item 1 always fails`);
  const all = await items(cluster, failing.id, "fetch");
  assertEquals(all.map((i) => i.status), ["succeeded", "failed", "cancelled"]);
  assertEquals(all[1]?.attempts, 3); // Its own retries: 1 + 2.
});

Deno.test("a map of 10,000 items works, and its record stays readable: items summed up, each read on its own", async () => {
  await using cluster = await Cluster.start({ waitFor: ["map_item", "tag"] });
  const n = 10_000;
  const result = await cluster.manager.run(
    mapPipeline(Array.from({ length: n }, (_, i) => i)),
    WAIT,
  );
  assertEquals(result.status, "succeeded", JSON.stringify(result.error));
  assertEquals((result.document.fetch as unknown[]).length, n);
  const record = await (await fetch(`${cluster.http}/pipelines/${result.id}`))
    .json() as PipelineRecord;
  assertEquals(record.jobs.length, 2);
  const job = record.jobs.find((j) => j.jobId === "fetch")!;
  assertEquals(job.map, {
    items: n,
    pending: 0,
    running: 0,
    succeeded: n,
    failed: 0,
    cancelled: 0,
  });
  assertEquals(job.output, undefined); // The outputs are the document's, not repeated per job.
  const one = await (await fetch(`${cluster.http}/pipelines/${result.id}/jobs/fetch/items/9876`))
    .json() as MapItemRecord;
  assertEquals([one.index, one.status, one.output?.value], [9876, "succeeded", 9876]);
  const page = await (await fetch(
    `${cluster.http}/pipelines/${result.id}/jobs/fetch/items?offset=9990&limit=1000`,
  )).json() as { total: number; items: MapItemRecord[]; next?: number };
  assertEquals([page.total, page.items.length, page.next], [n, 10, undefined]);
  for (
    const [path, status] of [
      [`/pipelines/${result.id}/jobs/fetch/items/10000`, 404],
      [`/pipelines/${result.id}/jobs/after/items/0`, 404],
      [`/pipelines/${result.id}/jobs/fetch/items/-1`, 400],
      [`/pipelines/${result.id}/jobs/fetch/items?limit=100000`, 400],
      [`/pipelines/nope/jobs/fetch/items/0`, 404],
    ] as const
  ) {
    const response = await fetch(`${cluster.http}${path}`);
    await response.body?.cancel();
    assertEquals(response.status, status, path);
  }
});

Deno.test("mapConcurrency caps the items running at once", async () => {
  await using cluster = await Cluster.start({ workers: 4, waitFor: ["map_item", "tag"] });
  const id = await cluster.manager.start(
    mapPipeline(Array.from({ length: 12 }, (_, i) => i), { ms: 150 }, { mapConcurrency: 2 }),
  );
  let most = 0;
  while (!(await cluster.manager.finished(id))) {
    const record = await cluster.manager.status(id);
    most = Math.max(most, record.jobs.find((j) => j.jobId === "fetch")?.map?.running ?? 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "succeeded");
  assert(most >= 1 && most <= 2, `at most 2 items ran at once, saw ${most}`);
});
