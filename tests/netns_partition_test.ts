/**
 * A network partition on separate hosts (`tests/_netns.ts`): one broker's link is cut
 * while it runs jobs, and restored. Figures are printed, never asserted.
 */
import { assert, assertEquals } from "./_assert.ts";
import { delay } from "./_helpers.ts";
import { netnsSkip, Network } from "./_netns.ts";
import { brokerOf, HostCluster } from "./_netns_cluster.ts";
import { assertDiamondsRight, report, slowDiamonds } from "./_netns_work.ts";
import type { JobRecord } from "../mod.ts";

const MS = 300;
const CUT_MS = 6000;

/** Whether broker `id` was declared lost while it held this job. */
function lostOn(job: JobRecord, id: string): boolean {
  return (job.attemptErrors ?? []).some((e) =>
    e.name === "BrokerLostError" && e.message.includes(`"${id}/`)
  );
}

Deno.test({
  name:
    "a broker cut off for 6 s mid-run: its jobs run on the other broker, none is counted twice, it serves again once back",
  ignore: netnsSkip !== undefined,
  async fn() {
    await using net = await Network.create({
      hosts: ["router", "broker1", "broker2", "pipeliner", "client"],
    });
    // broker1 can take all the work alone, so what broker2 held runs there as soon as
    // broker2 is declared lost, not after it is back.
    await using cluster = await HostCluster.start(net, {
      brokers: ["broker1", "broker2"],
      slotsOf: { broker1: 4, broker2: 2 },
      pipeliner: "pipeliner",
      waitFor: ["slow"],
    });
    const logs = () => net.logs();
    const ids = await cluster.client.submit(slowDiamonds(12, MS));
    const deadline = Date.now() + 10_000;
    while (!(await cluster.brokersKnown()).some((b) => b.id === "broker2" && b.busy > 0)) {
      assert(Date.now() < deadline, `broker2 never ran a job\n${logs()}`);
      await delay(20);
    }
    const cutAt = Date.now();
    await net.cut("broker2");
    await delay(CUT_MS);
    await net.restore("broker2");
    const restoredAt = Date.now();

    const records = await cluster.client.wait(ids);
    assertDiamondsRight(records, MS, 0, logs);
    const jobs = records.flatMap((r) => r.jobs);
    const moved = jobs.filter((job) => lostOn(job, "broker2"));
    assert(moved.length > 0, `no job was held by broker2 when it was cut\n${logs()}`);
    for (const job of moved) {
      // Run again in a new attempt elsewhere; broker2's own report of it was dropped.
      assertEquals([brokerOf(job), job.attempts], ["broker1", 2], JSON.stringify(job));
    }
    for (const job of jobs.filter((job) => !moved.includes(job))) {
      assertEquals(job.attempts, 1, JSON.stringify(job));
    }

    // broker2 comes back by itself once its link does, and takes jobs again.
    while (!(await cluster.brokersKnown()).some((b) => b.id === "broker2" && b.hosts?.length)) {
      assert(Date.now() < restoredAt + 30_000, `broker2 did not rejoin\n${logs()}`);
      await delay(50);
    }
    const rejoinedAt = Date.now();
    const again = await cluster.client.wait(await cluster.client.submit(slowDiamonds(12, MS, 12)));
    assertDiamondsRight(again, MS, 12, logs);
    const ranOn = new Set(again.flatMap((r) => r.jobs.map(brokerOf)));
    assertEquals([...ranOn].sort(), ["broker1", "broker2"], "both brokers take jobs again");

    // Each job's outcome recorded once. What broker2 finished during the cut mostly never
    // arrives: the Router's ZMTP heartbeats close its silent connection, and the results
    // in it go with it; any that do arrive are ignored as late.
    assertEquals(await cluster.metric("pipelinin_jobs_total"), jobs.length + again.length * 4);
    const late = await cluster.metric("pipelinin_late_results_total");
    assertEquals(late > 0, cluster.router.output.includes("Ignoring a late result"), logs());

    const ranElsewhere = moved.map((job) => Number(job.output?.startedAt) - cutAt);
    // The brokers ran the Router's functions and hold no copy in their own folders.
    assertEquals(await cluster.copiesOnBrokers(), []);
    report(
      `partition: ${moved.length} jobs of broker2 ran on broker1 ${Math.min(...ranElsewhere)}-${
        Math.max(...ranElsewhere)
      } ms after the cut; ${late} late results ignored; ` +
        `broker2 rejoined ${rejoinedAt - restoredAt} ms after its link came back`,
    );
  },
});
