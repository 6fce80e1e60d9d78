/**
 * A broker stopped with SIGTERM on a host of its own (`tests/_netns.ts`) while it holds
 * jobs: it finishes them (or hands back those it had not begun) and leaves; nothing is
 * lost and nothing runs twice.
 */
import { assert, assertEquals } from "./_assert.ts";
import { delay } from "./_helpers.ts";
import { netnsSkip, Network } from "./_netns.ts";
import { brokerOf, HostCluster } from "./_netns_cluster.ts";
import { assertDiamondsRight, report, slowDiamonds } from "./_netns_work.ts";

const MS = 600;

Deno.test({
  name:
    "a broker stopped with SIGTERM while it holds jobs finishes or hands them back: none lost or run twice",
  ignore: netnsSkip !== undefined,
  async fn() {
    await using net = await Network.create({
      hosts: ["router", "broker1", "broker2", "pipeliner", "client"],
    });
    await using cluster = await HostCluster.start(net, {
      brokers: ["broker1", "broker2"],
      pipeliner: "pipeliner",
      waitFor: ["slow"],
    });
    const logs = () => net.logs();
    const ids = await cluster.client.submit(slowDiamonds(10, MS));
    const deadline = Date.now() + 10_000;
    while (!(await cluster.brokersKnown()).some((b) => b.id === "broker2" && b.busy > 0)) {
      assert(Date.now() < deadline, `broker2 never ran a job\n${logs()}`);
      await delay(20);
    }
    const broker2 = cluster.brokers.get("broker2")!;
    const termAt = Date.now();
    broker2.kill("SIGTERM");
    const status = await broker2.status;
    const exitedAt = Date.now();
    assertEquals(status.code, 0, `broker2 did not stop cleanly\n${broker2.output}`);

    const records = await cluster.client.wait(ids);
    assertDiamondsRight(records, MS, 0, logs);
    const jobs = records.flatMap((r) => r.jobs);
    for (const job of jobs) {
      // Run once: neither lost with broker2 (a lost broker's job has an error and a
      // second attempt) nor run twice.
      assertEquals([job.attempts, job.attemptErrors], [1, undefined], JSON.stringify(job));
    }
    assertEquals(await cluster.metric("pipelinin_jobs_total"), jobs.length);
    assertEquals(await cluster.metric("pipelinin_late_results_total"), 0);
    const finished = jobs.filter((job) =>
      brokerOf(job) === "broker2" && Number(job.output?.endedAt) > termAt
    );
    assert(finished.length > 0, `broker2 finished no job after SIGTERM\n${logs()}`);
    const handedBack = jobs.filter((job) => (job.lastAttempt ?? 1) > 1);
    // The brokers ran the Router's functions and hold no copy in their own folders.
    assertEquals(await cluster.copiesOnBrokers(), []);
    report(
      `drain: broker2 finished ${finished.length} jobs after SIGTERM, handed back ` +
        `${handedBack.length}, and exited ${exitedAt - termAt} ms after it`,
    );
  },
});
