import { assertEquals } from "../../tests/_assert.ts";
import type { PipelineRecord } from "../../core/protocol/mod.ts";
import { DatabaseSync } from "node:sqlite";
import { INLINE_JOBS, PipelineStore } from "./store.ts";
import { removeStoreDir, writeOldStore } from "../../tests/_helpers.ts";

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
    assertEquals(store.insertPipeline(record("old", "succeeded", 1000), "key-1"), true);
    // A second pipeline under the same key is not stored.
    assertEquals(store.insertPipeline(record("again", "queued"), "key-1"), false);
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
    assertEquals(store.list({ statuses: ["failed"] }).pipelines.map((p) => p.id), ["new"]);
    assertEquals(store.counts(), { failed: 1, running: 1, succeeded: 1 });

    assertEquals(store.prune(Date.now() - 60_000), 1);
    store.commit();
    assertEquals(store.get("old"), undefined);
    assertEquals(store.get("new")?.status, "failed");
    store.close();
  } finally {
    await removeStoreDir(dir);
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
    await removeStoreDir(dir);
  }
});

Deno.test("changes are written once at the commit: small pipelines as one row, big ones with a row per job", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-store-" });
  try {
    let store = PipelineStore.open(dir);
    const small = record("small", "queued");
    const big: PipelineRecord = {
      ...record("big", "queued"),
      jobs: Array.from({ length: INLINE_JOBS + 1 }, (_, i) => ({
        jobId: `j${i}`,
        fn: "a",
        status: "pending",
        attempts: 0,
      })),
    };
    store.insertPipeline(small);
    store.insertPipeline(big);
    store.commit();

    small.status = "running";
    small.jobs[0]!.status = "running";
    store.savePipeline(small);
    store.saveJob(small, small.jobs[0]!);
    small.jobs[0]!.attempts = 1; // Changed after the save: the commit writes it too.
    big.jobs[3]!.status = "succeeded";
    store.saveJob(big, big.jobs[3]!);
    // Reads see the changes before the commit.
    assertEquals(store.get("small")?.jobs[0]?.status, "running");
    store.commit();
    store.close();

    store = PipelineStore.open(dir);
    assertEquals(store.get("small")?.status, "running");
    assertEquals(store.get("small")?.jobs[0], { ...small.jobs[0]!, attempts: 1 });
    const stored = store.get("big")!;
    assertEquals(stored.jobs.map((job) => job.jobId), big.jobs.map((job) => job.jobId));
    assertEquals(stored.jobs[3]?.status, "succeeded");
    store.close();

    const db = new DatabaseSync(`${dir}/pipelinin.db`);
    const rows = (id: string) =>
      Number(
        (db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE pipeline_id = ?").get(id) as {
          n: number;
        }).n,
      );
    assertEquals([rows("small"), rows("big")], [0, INLINE_JOBS + 1]);
    db.close();
  } finally {
    await removeStoreDir(dir);
  }
});

Deno.test("a store from before inline jobs opens, reads its job rows and takes new writes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-store-" });
  try {
    writeOldStore(
      dir,
      `INSERT INTO pipelines VALUES ('old', 1, 'running', '{"graph":{"a":[]}}', '{}', NULL, 1, 1,
        NULL, NULL);
      INSERT INTO jobs VALUES ('old', 'a', 0, '{"jobId":"a","fn":"a","status":"running","attempts":1}');`,
    );
    const store = PipelineStore.open(dir);
    try {
      const [old] = store.active();
      assertEquals(old?.jobs.map((job) => [job.jobId, job.status]), [["a", "running"]]);
      old!.jobs[0]!.status = "succeeded";
      old!.status = "succeeded";
      store.saveJob(old!, old!.jobs[0]!);
      store.savePipeline(old!);
      store.commit();
      assertEquals(store.get("old")?.jobs[0]?.status, "succeeded");
      assertEquals(store.active(), []);
    } finally {
      store.close();
    }
  } finally {
    await removeStoreDir(dir);
  }
});
