/**
 * The store's cases, run on both stores: the embedded SQLite one, and the working
 * copy over PostgreSQL (where each reopen loads a fresh copy from PostgreSQL, so
 * every value read back after it went through the mirror). Then what only
 * PostgreSQL has: a store whose lease another Router took writes nothing more.
 */
import { assert, assertEquals } from "./_assert.ts";
import type { PipelineRecord } from "../core/protocol/mod.ts";
import { ErrorName } from "../core/errors.ts";
import { getLogger } from "../core/log.ts";
import { INLINE_JOBS } from "../router/hub/store.ts";
import { postgresKind, STORE_KINDS } from "./_store_kinds.ts";
import { Lease } from "../router/postgres/lease.ts";
import { connect } from "../router/postgres/pg_schema.ts";
import { PgSession } from "../router/postgres/pg_session.ts";

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

for (const [kind, make] of STORE_KINDS) {
  Deno.test(`${kind}: the store keeps pipelines across reopening, pages newest first, and prunes old ended ones`, async () => {
    await using stores = await make();
    let { store, commit } = await stores.reopen();
    assertEquals(store.insertPipeline(record("old", "succeeded", 1000), "key-1"), true);
    assertEquals(store.insertPipeline(record("again", "queued"), "key-1"), false);
    store.insertPipeline(record("new", "failed", Date.now()));
    store.insertPipeline(record("live", "running"));
    await commit();

    ({ store, commit } = await stores.reopen());
    assertEquals(store.get("old")?.document, { id: "old" });
    assertEquals(store.idForKey("key-1"), "old");
    assertEquals(store.active().map((p) => p.id), ["live"]);
    const first = store.list({ limit: 2 });
    assertEquals(first.pipelines.map((p) => p.id), ["live", "new"]);
    assertEquals(store.list({ limit: 2, cursor: first.next }).pipelines.map((p) => p.id), ["old"]);
    assertEquals(store.list({ fn: "a" }).pipelines.length, 3);
    assertEquals(store.counts(), { failed: 1, running: 1, succeeded: 1 });
    // Seq goes on from the stored ones: a new pipeline lists first.
    store.insertPipeline(record("newest", "queued"));
    assertEquals(store.prune(Date.now() - 60_000), 1);
    await commit();

    ({ store } = await stores.reopen());
    assertEquals(store.get("old"), undefined);
    assertEquals(store.idForKey("key-1"), undefined);
    assertEquals(store.list({ limit: 1 }).pipelines.map((p) => p.id), ["newest"]);
    assertEquals(store.counts(), { failed: 1, queued: 1, running: 1 });
  });

  Deno.test(`${kind}: small pipelines keep their jobs inline, big ones a row per job, across reopening`, async () => {
    await using stores = await make();
    let { store, commit } = await stores.reopen();
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
    await commit();
    small.status = "running";
    small.jobs[0]!.status = "running";
    store.savePipeline(small);
    store.saveJob(small, small.jobs[0]!);
    small.jobs[0]!.attempts = 1;
    big.jobs[3]!.status = "succeeded";
    store.saveJob(big, big.jobs[3]!);
    await commit();

    ({ store, commit } = await stores.reopen());
    assertEquals(store.get("small")?.jobs[0], { ...small.jobs[0]!, attempts: 1 });
    const stored = store.get("big")!;
    assertEquals(stored.jobs.map((job) => job.jobId), big.jobs.map((job) => job.jobId));
    assertEquals(stored.jobs[3]?.status, "succeeded");
    store.linkRetry("big", "small");
    await commit();
    ({ store } = await stores.reopen());
    assertEquals(store.get("big")?.retriedBy, ["small"]);
  });

  Deno.test(`${kind}: map items, rate-limit starts, job logs, served functions and schedules survive reopening`, async () => {
    await using stores = await make();
    let { store, schedules, commit } = await stores.reopen();
    store.insertPipeline(record("p", "running"));
    store.items.save("p", "a", { index: 0, status: "succeeded", attempts: 1, output: { x: 1 } });
    store.items.save("p", "a", { index: 1, status: "pending", attempts: 0 });
    const now = Date.now();
    store.starts.note("a", now - 10);
    store.starts.note("a", now - 5);
    store.logs.append({
      type: "job-logs",
      pipelineId: "p",
      jobId: "a",
      attempt: 1,
      records: [{ time: now, level: "info", message: "hello" }],
    });
    store.rememberServed(["a", "b"], 42);
    schedules.put({
      spec: {
        id: "nightly",
        cron: "0 3 * * *",
        timezone: "UTC",
        overlap: "skip",
        pipeline: { graph: { a: [] } },
      },
      createdAt: 1,
      updatedAt: 2,
      handledUntil: 3,
    });
    await commit();
    store.forgetServed(["b"]);
    await commit();

    ({ store, schedules, commit } = await stores.reopen());
    assertEquals(store.items.load("p", "a").map((item) => [item.index, item.status]), [
      [0, "succeeded"],
      [1, "pending"],
    ]);
    assertEquals(store.items.get("p", "a", 0)?.output, { x: 1 });
    assertEquals(store.starts.recent(now).map((start) => start.at), [now - 10, now - 5]);
    assertEquals(store.logs.read("p", "a").flatMap((chunk) => chunk.lines.map((l) => l.message)), [
      "hello",
    ]);
    assertEquals([...store.servedFunctions()], [["a", 42]]);
    assertEquals(schedules.all().map((s) => [s.spec.id, s.handledUntil]), [["nightly", 3]]);
    // A rowid table keeps counting from its stored rows.
    store.starts.note("a", now);
    schedules.delete("nightly");
    await commit();
    ({ store, schedules } = await stores.reopen());
    assertEquals(store.starts.recent(now + 1).length, 3);
    assertEquals(schedules.all(), []);
  });
}

Deno.test("postgres: commits that come while one is in flight go to PostgreSQL together, in order", async () => {
  await using stores = await postgresKind();
  const { store, commit, mirrored } = await stores.reopen();
  const live = record("p", "queued");
  store.insertPipeline(live);
  await commit();
  const before = mirrored();
  // 50 commits in a row, none awaited before the next: each changes the same row.
  const commits: Promise<void>[] = [];
  for (let i = 0; i < 50; i++) {
    live.document = { step: i };
    store.savePipeline(live);
    commits.push(commit());
  }
  await Promise.all(commits);
  const transactions = mirrored() - before;
  assert(transactions < 50, `${transactions} PostgreSQL transactions for 50 commits`);
  const [row] = await stores.sql<{ document: string }[]>`SELECT document FROM pipelines`;
  assertEquals(JSON.parse(row!.document), { step: 49 });
});

Deno.test("postgres: a store whose lease another Router took commits nothing more to PostgreSQL", async () => {
  await using stores = await postgresKind();
  const { store, commit } = await stores.reopen();
  store.insertPipeline(record("before", "queued"));
  await commit();
  // Another Router takes the lease over (as after this one's lease expired).
  const other = new PgSession((name) => connect(stores.pg.url, 1, name));
  try {
    await other.sql`UPDATE router_lease SET expires_at = '-infinity'`;
    const lease = new Lease(other, {
      holder: "other",
      endpoint: "tcp://other:5555",
      ttlMs: 60_000,
      log: getLogger("router"),
    });
    await lease.acquire(new AbortController().signal);
    store.insertPipeline(record("after", "queued"));
    let refused: unknown;
    await commit().catch((error) => refused = error);
    assert(refused instanceof Error, "the commit was not refused");
    assertEquals(refused.name, ErrorName.NotActive);
    const ids = await other.sql<{ id: string }[]>`SELECT id FROM pipelines ORDER BY id`;
    assertEquals(ids.map((row) => row.id), ["before"]);
  } finally {
    await other.end();
  }
});
