/**
 * A broker that joins mid-run, on a host of its own (`tests/_netns.ts`), takes jobs
 * before the run ends. How soon is printed, never asserted.
 */
import { assert, assertEquals } from "./_assert.ts";
import { delay } from "./_helpers.ts";
import { netnsSkip, Network } from "./_netns.ts";
import { brokerOf, HostCluster } from "./_netns_cluster.ts";
import { assertDiamondsRight, report, slowDiamonds } from "./_netns_work.ts";

const MS = 300;

Deno.test({
  name: "a third broker joining on its own host in the middle of a run takes jobs before it ends",
  ignore: netnsSkip !== undefined,
  async fn() {
    await using net = await Network.create({
      hosts: ["router", "broker1", "broker2", "broker3", "pipeliner", "client"],
    });
    await using cluster = await HostCluster.start(net, {
      brokers: ["broker1", "broker2"],
      pipeliner: "pipeliner",
      waitFor: ["slow"],
    });
    const logs = () => net.logs();
    // About 9 s of work for the first two brokers' four slots.
    const ids = await cluster.client.submit(slowDiamonds(30, MS));
    await delay(1000);
    // Its key goes on the allow-list first; it starts once the Router has read it.
    await cluster.addBroker("broker3");
    const spawnedAt = Date.now();
    let since: number | undefined;
    while (since === undefined) {
      const known = (await cluster.brokersKnown()).find((b) => b.id === "broker3");
      if (known?.hosts?.length) since = known.since;
      assert(Date.now() < spawnedAt + 30_000, `broker3 did not join\n${logs()}`);
      await delay(20);
    }
    const records = await cluster.client.wait(ids);
    assertDiamondsRight(records, MS, 0, logs);
    const jobs = records.flatMap((r) => r.jobs);
    const third = jobs.filter((job) => brokerOf(job) === "broker3");
    assert(third.length > 0, `broker3 took no job of the run\n${logs()}`);
    const lastEnd = Math.max(...jobs.map((job) => Number(job.output?.endedAt)));
    const firstStart = Math.min(...third.map((job) => Number(job.output?.startedAt)));
    assert(firstStart < lastEnd);
    assertEquals(await cluster.copiesOnBrokers(), []);
    report(
      `join: broker3 joined ${since - spawnedAt} ms after its start, ran its first job ` +
        `${firstStart - since} ms after joining, and ${third.length} of ${jobs.length} jobs`,
    );
  },
});
