/**
 * Cron schedules with real daemons: a 2-second schedule fires on its ticks, once
 * each, also across a kill -9 of the Router; after a downtime only the latest missed
 * tick fires, once; `overlap: "skip"` starts nothing while the last pipeline runs.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { alignTo, http, routerUp, sleep, startedBy } from "./_schedules.ts";
import type { PipelineRecord, ScheduleRecord } from "../mod.ts";

const EVERY_2S = "*/2 * * * * *";

function ticksOf(pipelines: PipelineRecord[]): number[] {
  return pipelines.map((p) => p.schedule!.at);
}

/** Fails naming the tick when one started two pipelines. */
function assertOncePerTick(pipelines: PipelineRecord[], logs: string): void {
  const ticks = ticksOf(pipelines);
  assertEquals(new Set(ticks).size, ticks.length, `a tick fired twice: ${ticks}\n${logs}`);
}

/** Waits until schedule `id` has started more than `count` pipelines; returns them. */
async function moreThan(cluster: Cluster, id: string, count: number): Promise<PipelineRecord[]> {
  const deadline = Date.now() + 20_000;
  while (true) {
    const started = await startedBy(cluster, id);
    if (started.length > count) return started;
    if (Date.now() > deadline) throw new Error(`no new pipeline of ${id}\n${cluster.logs()}`);
    await sleep(20);
  }
}

Deno.test("a 2-second schedule fires 3 or 4 times in 7 s, once per tick, each pipeline marked with its tick", async () => {
  await using cluster = await Cluster.start();
  const created = await http<ScheduleRecord>(cluster, "POST", "/schedules", {
    id: "every-2s",
    cron: EVERY_2S,
    pipeline: { graph: { ok: [] }, data: { n: 1 } },
  });
  assertEquals(created.status, 201, JSON.stringify(created.body));
  const since = created.body.createdAt;
  assert(created.body.nextRunAt! > since && created.body.nextRunAt! % 2000 === 0);
  await sleep(7000);
  const deleted = await http(cluster, "DELETE", "/schedules/every-2s");
  assertEquals(deleted.status, 200);
  const started = await startedBy(cluster, "every-2s");
  assert(started.length === 3 || started.length === 4, `${ticksOf(started)}\n${cluster.logs()}`);
  assertOncePerTick(started, cluster.logs());
  for (const pipeline of started) {
    const at = pipeline.schedule!.at;
    assert(at % 2000 === 0 && at > since, `tick ${at} is not one of ${EVERY_2S} after ${since}`);
    assert(pipeline.createdAt >= at, "a pipeline started before its tick");
    const record = await cluster.manager.wait(pipeline.id, { timeoutMs: 10_000 });
    assertEquals([record.status, record.document.n], ["succeeded", 2]);
  }
  // Consecutive ticks: none was skipped while the Router ran.
  ticksOf(started).slice(1).forEach((at, i) => assertEquals(at - ticksOf(started)[i]!, 2000));
});

Deno.test("kill -9 the Router right after a tick and restart it: the schedule fires on, never twice for one tick", async () => {
  await using cluster = await Cluster.start();
  await cluster.manager.createSchedule({
    id: "through-kill",
    cron: EVERY_2S,
    pipeline: { graph: { ok: [] }, data: { n: 1 } },
  });
  const first = await moreThan(cluster, "through-kill", 0);
  // Killed just after a tick committed: a Router that forgot it would fire it again.
  cluster.router.kill("SIGKILL");
  await cluster.router.status;
  const restarted = Date.now();
  cluster.restartRouter();
  await routerUp(cluster);
  const after = await moreThan(cluster, "through-kill", first.length);
  await sleep(4500);
  const all = await startedBy(cluster, "through-kill");
  await cluster.manager.deleteSchedule("through-kill");
  assertOncePerTick(all, cluster.logs());
  assert(after.length > first.length);
  assert(
    all.some((p) => p.createdAt > restarted),
    `nothing fired after the restart\n${cluster.logs()}`,
  );
  assert(all.length >= first.length + 2, `${ticksOf(all)}`);
});

Deno.test("after a downtime only the latest missed tick fires, once", async () => {
  await using cluster = await Cluster.start();
  await cluster.manager.createSchedule({
    id: "missed",
    cron: "*/4 * * * * *",
    pipeline: { graph: { ok: [] } },
  });
  const before = await moreThan(cluster, "missed", 0);
  const last = before.at(-1)!.schedule!.at;
  // Ended, so that `overlap: "skip"` does not skip the tick owed after the restart.
  await cluster.manager.wait(before.at(-1)!.id, { timeoutMs: 10_000 });
  cluster.router.kill("SIGKILL");
  await cluster.router.status;
  // Down for at least two ticks, back 100 ms after one: the latest missed.
  await sleep(7000);
  await alignTo(4000, 100);
  const spawned = Date.now();
  const latestMissed = spawned - (spawned % 4000);
  cluster.restartRouter();
  await routerUp(cluster);
  const all = await moreThan(cluster, "missed", before.length);
  await cluster.manager.deleteSchedule("missed");
  assertOncePerTick(all, cluster.logs());
  const fired = all.filter((p) => p.schedule!.at > last);
  assert(latestMissed - last >= 8000, `only ${latestMissed - last} ms down`);
  assertEquals(fired[0]!.schedule!.at, latestMissed, `${ticksOf(all)}\n${cluster.logs()}`);
  assert(fired[0]!.createdAt >= spawned, "the missed tick fired before the restart");
  const schedule = await cluster.manager.schedules();
  assertEquals(schedule.length, 0);
});

Deno.test('overlap "skip" starts no pipeline while the last one runs; "allow" does', async () => {
  await using cluster = await Cluster.start({ workers: 4, waitFor: ["slow"] });
  const pipeline = { graph: { slow: [] }, data: { ms: 2500 } };
  await cluster.manager.createSchedule({ id: "skip", cron: "* * * * * *", pipeline });
  await cluster.manager.createSchedule({
    id: "allow",
    cron: "* * * * * *",
    pipeline,
    overlap: "allow",
  });
  await sleep(6500);
  const skipped = (await cluster.manager.schedule("skip")).lastTick;
  await cluster.manager.deleteSchedule("skip");
  await cluster.manager.deleteSchedule("allow");
  const ended = async (id: string) =>
    await Promise.all(
      (await startedBy(cluster, id)).map((p) => cluster.manager.wait(p.id, { timeoutMs: 30_000 })),
    ).then(() => startedBy(cluster, id));
  const skip = await ended("skip");
  const allow = await ended("allow");
  assert(skip.length >= 2, `skip started ${skip.length}\n${cluster.logs()}`);
  skip.slice(1).forEach((p, i) => {
    const before = skip[i]!;
    assert(p.createdAt >= before.finishedAt!, `${p.id} started while ${before.id} ran`);
  });
  assert(skipped !== undefined && ["skipped", "started"].includes(skipped.outcome));
  // Every second a tick: those of "allow" overlap, and "skip" started fewer.
  assert(allow.length > skip.length, `allow ${allow.length}, skip ${skip.length}`);
  assert(
    allow.slice(1).some((p, i) => p.createdAt < allow[i]!.finishedAt!),
    `"allow" never overlapped\n${cluster.logs()}`,
  );
});
