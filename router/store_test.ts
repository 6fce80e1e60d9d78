import { assertEquals } from "../tests/_assert.ts";
import type { PipelineRecord } from "../core/protocol.ts";
import { PipelineStore } from "./store.ts";

function record(id: string, status: PipelineRecord["status"], finishedAt?: number): PipelineRecord {
  return {
    id,
    status,
    spec: { graph: { a: [] } },
    document: { id },
    jobs: [{ jobId: "a", fn: "a", status: "pending", attempts: 0 }],
    createdAt: 1,
    ...(finishedAt ? { startedAt: 1, finishedAt } : {}),
  };
}

Deno.test("the store keeps pipelines across reopening, pages newest first, and prunes old ended ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-store-" });
  try {
    let store = PipelineStore.open(dir);
    store.insertPipeline(record("old", "succeeded", 1000), "key-1");
    store.insertPipeline(record("new", "failed", Date.now()));
    store.insertPipeline(record("live", "running"));
    store.commit();
    assertEquals([...store.takeTouched()].sort(), ["live", "new", "old"]);
    store.close();

    store = PipelineStore.open(dir);
    assertEquals(store.get("old")?.document, { id: "old" });
    assertEquals(store.get("old")?.jobs.length, 1);
    assertEquals(store.idForKey("key-1"), "old");
    assertEquals(store.active().map((p) => p.id), ["live"]);
    const first = store.list({ limit: 2 });
    assertEquals(first.pipelines.map((p) => p.id), ["live", "new"]);
    assertEquals(store.list({ limit: 2, cursor: first.next }).pipelines.map((p) => p.id), ["old"]);
    assertEquals(store.list({ status: "failed" }).pipelines.map((p) => p.id), ["new"]);
    assertEquals(store.counts(), { failed: 1, running: 1, succeeded: 1 });

    assertEquals(store.prune(Date.now() - 60_000), 1);
    store.commit();
    assertEquals(store.get("old"), undefined);
    assertEquals(store.get("new")?.status, "failed");
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the WAL is checkpointed off the Router's thread: pages reach the database file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-store-" });
  const store = PipelineStore.open(dir);
  const dbBytes = async () => (await Deno.stat(`${dir}/pipelinin.db`)).size;
  try {
    const before = await dbBytes();
    for (let i = 0; i < 1500; i++) {
      store.insertPipeline(record(`p${i}`, "succeeded", Date.now()));
      if (i % 50 === 49) store.commit();
    }
    store.commit();
    // ~500 pages: far below the Router's own fallback threshold, so only the worker can move
    // them out of the WAL. No timing is assumed; it must happen eventually.
    const deadline = Date.now() + 30_000;
    while ((await dbBytes()) <= before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const after = await dbBytes();
    assertEquals(after > before, true, `the database file stayed at ${before} bytes`);
    assertEquals(store.get("p0")?.status, "succeeded");
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
