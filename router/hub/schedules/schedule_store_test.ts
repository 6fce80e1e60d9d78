import { assert, assertEquals } from "../../../tests/_assert.ts";
import type { PipelineRecord } from "../../../core/protocol/mod.ts";
import { PipelineStore } from "../store.ts";
import { ScheduleStore, type StoredSchedule } from "./schedule_store.ts";
import { removeStoreDir } from "../../../tests/_helpers.ts";

function pipeline(id: string, at: number): PipelineRecord {
  return {
    id,
    status: "queued",
    spec: { graph: { ok: [] } },
    document: {},
    jobs: [{ jobId: "ok", fn: "ok", status: "pending", attempts: 0 }],
    createdAt: at,
    schedule: { id: "nightly", at },
  };
}

const NIGHTLY: StoredSchedule = {
  spec: {
    id: "nightly",
    cron: "0 3 * * *",
    timezone: "Europe/Paris",
    overlap: "skip",
    pipeline: { graph: { ok: [] } },
  },
  createdAt: 1,
  updatedAt: 1,
  handledUntil: 1,
};

Deno.test("the store holds one pipeline per schedule tick, and keeps the tick in its record", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-schedules-" });
  try {
    let store = PipelineStore.open(dir);
    new ScheduleStore(store);
    store.insertPipeline(pipeline("first", 1000));
    let refused = false;
    try {
      store.insertPipeline(pipeline("second", 1000));
    } catch {
      refused = true;
    }
    assert(refused, "a second pipeline for the same tick was stored");
    store.insertPipeline(pipeline("next", 2000));
    store.commit();
    store.close();
    store = PipelineStore.open(dir);
    new ScheduleStore(store);
    assertEquals(store.get("first")?.schedule, { id: "nightly", at: 1000 });
    assertEquals(store.get("second"), undefined);
    assertEquals(store.list().pipelines.map((p) => p.schedule?.at), [2000, 1000]);
    store.close();
  } finally {
    await removeStoreDir(dir);
  }
});

Deno.test("schedules and their handled ticks commit with the store's batch and survive reopening", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-schedules-" });
  try {
    let store = PipelineStore.open(dir);
    let schedules = new ScheduleStore(store);
    schedules.put(NIGHTLY);
    store.commit();
    const ticked: StoredSchedule = {
      ...NIGHTLY,
      handledUntil: 5000,
      lastTick: { at: 5000, outcome: "started", pipelineId: "p" },
      lastPipeline: "p",
    };
    schedules.tick(ticked);
    // Replaced: the spec and the put's time change, the last tick and pipeline stay.
    schedules.put({
      ...NIGHTLY,
      spec: { ...NIGHTLY.spec, cron: "0 4 * * *" },
      updatedAt: 9,
      handledUntil: 9000,
    });
    store.commit();
    store.close();
    store = PipelineStore.open(dir);
    schedules = new ScheduleStore(store);
    assertEquals(schedules.all(), [{
      ...ticked,
      spec: { ...NIGHTLY.spec, cron: "0 4 * * *" },
      updatedAt: 9,
      handledUntil: 9000,
    }]);
    schedules.delete("nightly");
    store.commit();
    assertEquals(schedules.all(), []);
    store.close();
  } finally {
    await removeStoreDir(dir);
  }
});
