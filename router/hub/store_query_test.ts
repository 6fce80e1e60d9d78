import { assertEquals } from "../../tests/_assert.ts";
import type { PipelineRecord } from "../../core/protocol/mod.ts";
import { DatabaseSync } from "node:sqlite";
import { PipelineStore } from "./store.ts";
import { removeStoreDir } from "../../tests/_helpers.ts";

function record(
  id: string,
  status: PipelineRecord["status"],
  fns: string[],
  createdAt: number,
): PipelineRecord {
  return {
    id,
    status,
    spec: { graph: Object.fromEntries(fns.map((fn) => [fn, []])) },
    document: {},
    jobs: fns.map((fn) => ({ jobId: fn, fn, status: "pending", attempts: 0 })),
    createdAt,
  };
}

const ids = (page: { pipelines: { id: string }[] }) => page.pipelines.map((p) => p.id);

Deno.test("the store lists by status, function, time and search, paging each newest first", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-store-" });
  try {
    const store = PipelineStore.open(dir);
    store.insertPipeline(record("0001aaaa-1", "failed", ["fetch", "parse"], 1000), "order-7");
    store.insertPipeline(record("0001aaaa-2", "succeeded", ["fetch"], 2000));
    store.insertPipeline(record("0001bbbb-3", "failed", ["parse"], 3000));
    store.insertPipeline(record("0001bbbb-4", "running", ["fetch", "save"], 4000));
    store.commit();
    assertEquals(ids(store.list({ fn: "fetch" })), ["0001bbbb-4", "0001aaaa-2", "0001aaaa-1"]);
    assertEquals(ids(store.list({ fn: "parse", statuses: ["failed"] })), [
      "0001bbbb-3",
      "0001aaaa-1",
    ]);
    assertEquals(ids(store.list({ statuses: ["failed", "running"] })), [
      "0001bbbb-4",
      "0001bbbb-3",
      "0001aaaa-1",
    ]);
    assertEquals(ids(store.list({ since: 2000, until: 4000 })), ["0001bbbb-3", "0001aaaa-2"]);
    assertEquals(ids(store.list({ since: 5000 })), []);
    assertEquals(ids(store.list({ fn: "fetch", since: 1500, until: 4001 })), [
      "0001bbbb-4",
      "0001aaaa-2",
    ]);
    // A search finds an id, the beginning of ids, or an idempotency key.
    assertEquals(ids(store.list({ search: "0001bbbb-3" })), ["0001bbbb-3"]);
    assertEquals(ids(store.list({ search: "0001aaaa" })), ["0001aaaa-2", "0001aaaa-1"]);
    assertEquals(ids(store.list({ search: "order-7" })), ["0001aaaa-1"]);
    assertEquals(ids(store.list({ search: "0001" })), []); // Too short to be a beginning.
    assertEquals(store.list({ search: "order-7" }).pipelines[0]?.idempotencyKey, "order-7");
    // Pages of a filter follow each other.
    const first = store.list({ fn: "fetch", limit: 2 });
    assertEquals(ids(first), ["0001bbbb-4", "0001aaaa-2"]);
    assertEquals(ids(store.list({ fn: "fetch", limit: 2, cursor: first.next })), ["0001aaaa-1"]);
    store.close();
  } finally {
    await removeStoreDir(dir);
  }
});

Deno.test("the store keeps its counts as pipelines start, end and are pruned, without counting again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-store-" });
  try {
    let store = PipelineStore.open(dir);
    const live = record("p1", "queued", ["a"], Date.now());
    store.insertPipeline(live);
    store.insertPipeline(record("p2", "queued", ["a"], Date.now()));
    store.commit();
    assertEquals(store.counts(), { queued: 2 });
    live.status = "running";
    store.savePipeline(live);
    store.commit();
    assertEquals(store.counts(), { queued: 1, running: 1 });
    live.status = "failed";
    live.finishedAt = 1;
    store.savePipeline(live);
    store.commit();
    assertEquals(store.counts(), { queued: 1, failed: 1 });
    assertEquals(store.prune(Date.now()), 1);
    store.commit();
    assertEquals(store.counts(), { queued: 1 });
    assertEquals(ids(store.list({ fn: "a" })), ["p2"]);
    store.close();
    // Reopened, the counts are read once from the table.
    store = PipelineStore.open(dir);
    assertEquals(store.counts(), { queued: 1 });
    store.close();
  } finally {
    await removeStoreDir(dir);
  }
});

Deno.test("a retry is linked to the pipeline it retries both ways, across reopening", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-store-" });
  try {
    let store = PipelineStore.open(dir);
    store.insertPipeline(record("old", "failed", ["a"], 1));
    store.insertPipeline({ ...record("new", "queued", ["a"], 2), retryOf: "old" });
    store.linkRetry("old", "new");
    store.commit();
    assertEquals([...store.takeTouched()].sort(), ["new", "old"]);
    store.close();
    store = PipelineStore.open(dir);
    assertEquals(store.get("old")?.retriedBy, ["new"]);
    assertEquals(store.get("new")?.retryOf, "old");
    store.close();
  } finally {
    await removeStoreDir(dir);
  }
});

Deno.test("a store made before the function index gets its pipelines indexed when opened", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-store-" });
  try {
    const db = new DatabaseSync(`${dir}/pipelinin.db`);
    db.exec(
      `CREATE TABLE pipelines (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL,
      spec TEXT NOT NULL, document TEXT NOT NULL, error TEXT, created_at INTEGER NOT NULL,
      started_at INTEGER, finished_at INTEGER, idempotency_key TEXT UNIQUE, jobs TEXT);
      INSERT INTO pipelines VALUES ('p', 1, 'succeeded', '{"graph":{"x":[]}}', '{}', NULL, 5, 5, 6,
        NULL, '[{"jobId":"x","fn":"resize","status":"succeeded","attempts":1}]');`,
    );
    db.close();
    const store = PipelineStore.open(dir);
    assertEquals(ids(store.list({ fn: "resize" })), ["p"]);
    store.close();
  } finally {
    await removeStoreDir(dir);
  }
});

Deno.test("a listed pipeline is a summary: its jobs' ids, functions and states, and no document", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-store-" });
  try {
    const store = PipelineStore.open(dir);
    const small = record("small", "succeeded", ["fetch", "parse"], 1000);
    small.document = { page: "x".repeat(10_000) };
    small.jobs[0]!.status = "succeeded";
    small.jobs[0]!.output = { page: "x".repeat(10_000) };
    small.spec.delayMs = 500;
    small.startedAt = 1500;
    small.finishedAt = 1600;
    // Over the jobs a row keeps inline: its jobs have rows of their own.
    const big = record("big", "failed", Array.from({ length: 100 }, (_, i) => `f${i}`), 2000);
    big.jobs[99]!.status = "failed";
    big.error = { name: "Error", message: "boom", retryable: false };
    big.spec.runAt = "1970-01-01T00:00:03Z";
    store.insertPipeline(small, "key-1");
    store.insertPipeline(big);
    store.commit();
    const [b, s] = store.list().pipelines;
    assertEquals(s, {
      id: "small",
      status: "succeeded",
      jobs: [
        { jobId: "fetch", fn: "fetch", status: "succeeded" },
        { jobId: "parse", fn: "parse", status: "pending" },
      ],
      createdAt: 1000,
      startedAt: 1500,
      finishedAt: 1600,
      durationMs: 100,
      idempotencyKey: "key-1",
      runAt: 1500,
    });
    assertEquals(b?.jobs.length, 100);
    assertEquals(b?.jobs[99], { jobId: "f99", fn: "f99", status: "failed" });
    assertEquals([b?.error?.message, b?.runAt], ["boom", 3000]);
    assertEquals("document" in (b ?? {}) || "spec" in (b ?? {}), false);
    store.close();
  } finally {
    await removeStoreDir(dir);
  }
});
