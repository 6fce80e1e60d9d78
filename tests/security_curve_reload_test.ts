/**
 * The Router's allow-list is read again when it changes: a key added joins with no
 * restart, and a key taken off is cut off while its broker runs, its job running
 * again on another broker.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { until } from "./_helpers.ts";
import { Pipeline } from "../mod.ts";

Deno.test("a key taken off the allow-list is cut off and its job runs elsewhere; a key added joins with no restart", async () => {
  await using cluster = await Cluster.start({ curve: true, workers: 1 });
  const keys = cluster.keys!;
  const second = keys.make("second-broker");
  const others = [
    `${keys.pipeliner.keys.publicKey} pipeliner`,
    `${keys.client.keys.publicKey} client`,
  ];
  const first = `${keys.broker.keys.publicKey} broker`;
  // The first broker (the only one yet) takes a job that runs for a while.
  const id = await cluster.manager.start(new Pipeline({ slow: [] }, { data: { ms: 4000 } }));
  let firstBroker = "";
  await until(() => {
    const match = / Worker host (\S+)\/host-0 /.exec(cluster.router.output);
    firstBroker = match?.[1] ?? "";
    return firstBroker !== "";
  }, "the first broker's host");
  while ((await cluster.manager.status(id)).jobs[0]?.status !== "running") {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Added: a broker with a key the Router did not know at start joins.
  keys.writeAllowList([first, `${second.keys.publicKey} broker`, ...others]);
  cluster.addBroker(keys.peerFlags(second));
  await until(
    () => (cluster.router.output.match(/ Worker host \S+\/host-0 /g) ?? []).length >= 2,
    `the second broker's host to join\n${cluster.logs()}`,
    30_000,
  );
  // Taken off: the first broker's peers are dropped, and its job runs on the second.
  keys.writeAllowList([`${second.keys.publicKey} broker`, ...others]);
  const result = await cluster.manager.wait(id, { timeoutMs: 30_000 });
  assertEquals(result.status, "succeeded", cluster.logs());
  const job = result.jobs[0]!;
  assertEquals(job.attempts, 2, JSON.stringify(job));
  assert(job.broker !== undefined && !job.broker.startsWith(firstBroker), JSON.stringify(job));
  assert(cluster.router.output.includes("taken off the allow-list"), cluster.logs());
  const brokers = await (await fetch(`${cluster.http}/brokers`)).text();
  assert(!brokers.includes(firstBroker), brokers);
});
