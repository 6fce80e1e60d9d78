/**
 * Nothing lost when a daemon dies: kill -9 the Router, a broker or a pipeliner
 * mid-pipeline; every accepted pipeline still ends with the right document.
 */
import { assertEquals } from "./_assert.ts";
import { Cluster, freePort } from "./_cluster.ts";
import { writeOldStore } from "./_helpers.ts";
import { start as startRouter } from "../router/mod.ts";
import { start as startBroker } from "../broker/mod.ts";

const WAIT = { timeoutMs: 60_000 };

async function waitUntilRunning(cluster: Cluster, id: string, jobIndex: number) {
  const deadline = Date.now() + 20_000;
  while ((await cluster.manager.status(id)).jobs[jobIndex]?.status !== "running") {
    if (Date.now() > deadline) throw new Error(`job ${jobIndex} never ran\n${cluster.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("kill -9 the Router mid-pipeline and restart it: the pipeline resumes and wait() returns", async () => {
  await using cluster = await Cluster.start({ waitFor: ["slow", "ok"] });
  const id = await cluster.manager.start({ graph: { slow: ["ok"] }, data: { ms: 1500, n: 1 } });
  // One job: the Router runs it without a pipeliner, and must resume it by itself.
  const single = await cluster.manager.start({ graph: { slow: [] }, data: { ms: 1500 } });
  // Two jobs that succeed before the kill and a third that runs through it: on replay the
  // pipeliner asks for the first job only (its plan holds the rest), so the Router must
  // report the second one's success and start the third.
  const planned = await cluster.manager.start({
    graph: { first: "second", second: "slow" },
    jobs: { first: "ok", second: "ok" },
    data: { ms: 1500, n: 1 },
  });
  await waitUntilRunning(cluster, id, 0);
  await waitUntilRunning(cluster, single, 0);
  await waitUntilRunning(cluster, planned, 2);
  const waiting = Promise.all([
    cluster.manager.wait(id, WAIT),
    cluster.manager.wait(single, WAIT),
    cluster.manager.wait(planned, WAIT),
  ]);
  cluster.router.kill("SIGKILL");
  await cluster.router.status;
  cluster.restartRouter();
  const [result, alone, chain] = await waiting;
  assertEquals(result.status, "succeeded", cluster.logs());
  assertEquals(result.document.n, 2);
  assertEquals(result.document.waited, 1500);
  assertEquals([alone.status, alone.document.waited], ["succeeded", 1500], cluster.logs());
  assertEquals([chain.status, chain.document.n, chain.document.waited], ["succeeded", 3, 1500]);
});

Deno.test("kill -9 a broker mid-job: the job runs again on another broker", async () => {
  await using cluster = await Cluster.start({ brokers: 2, waitFor: ["slow"] });
  const id = await cluster.manager.start({ graph: { slow: ["ok"] }, data: { ms: 3000, n: 5 } });
  await waitUntilRunning(cluster, id, 0);
  const record = await cluster.manager.status(id);
  const victim = cluster.brokers.find((b) => record.jobs[0]!.broker!.includes(`-${b.pid}-`))!;
  victim.kill("SIGKILL");
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "succeeded", cluster.logs());
  assertEquals(result.document.n, 6);
  assertEquals(result.jobs[0]?.attempts, 2);
});

Deno.test("a broker that stops before its hosts' jobs end hands them back: they run elsewhere, no run counted", async () => {
  await using cluster = await Cluster.start({ brokers: 0, waitFor: [] });
  const broker = await startBroker({
    router: cluster.api,
    functionsDir: "tests/fixtures/functions",
    workers: 1,
    heapMb: 64,
  });
  let stopped = false;
  try {
    assertEquals(broker.state, "running");
    await cluster.waitForFunctions(["slow"]);
    const id = await cluster.manager.start({ graph: { slow: [] }, data: { ms: 2000 } });
    await waitUntilRunning(cluster, id, 0);
    await broker.stop(200); // Far less than the job needs: it is stopped, not failed.
    stopped = true;
    assertEquals(broker.state, "stopped");
    cluster.addBroker();
    const result = await cluster.manager.wait(id, WAIT);
    assertEquals(result.status, "succeeded", cluster.logs());
    assertEquals([result.jobs[0]?.attempts, result.jobs[0]?.attemptErrors], [1, undefined]);
  } finally {
    if (!stopped) await broker.stop(0);
  }
});

Deno.test("kill -9 the pipeliner mid-pipeline: another pipeliner takes over", async () => {
  await using cluster = await Cluster.start({ pipeliners: 2, waitFor: ["slow", "ok"] });
  const ids = await Promise.all(
    [0, 1, 2, 3].map((n) =>
      cluster.manager.start({ graph: { slow: ["ok"] }, jobs: {}, data: { ms: 800, n } })
    ),
  );
  await waitUntilRunning(cluster, ids[0]!, 0);
  cluster.pipeliners[0]!.kill("SIGKILL");
  for (const [n, id] of ids.entries()) {
    const result = await cluster.manager.wait(id, WAIT);
    assertEquals(result.status, "succeeded", cluster.logs());
    assertEquals(result.document.n, n + 1);
  }
});

Deno.test("a retry's back-off holds when another pipeliner takes the pipeline over and replays it", async () => {
  await using cluster = await Cluster.start({
    // A back-off far longer than the takeover (the Router declares the pipeliner dead
    // after a second of silence, the new one replays at once).
    routerArgs: ["--retry-base-ms", "6000", "--heartbeat-ms", "200", "--peer-timeout-ms", "1000"],
    waitFor: ["flaky", "ok"],
  });
  // Two roots: a pipeliner drives it. "flaky" fails its first attempt and is retried.
  const id = await cluster.manager.start({ graph: { flaky: [], ok: [] }, data: { n: 1 } });
  const deadline = Date.now() + 20_000;
  let waiting;
  while (!(waiting = (await cluster.manager.status(id)).jobs[0])?.retryAt) {
    if (Date.now() > deadline) throw new Error(`flaky never failed\n${cluster.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assertEquals([waiting.jobId, waiting.status, waiting.attempts], ["flaky", "pending", 1]);
  cluster.pipeliners[0]!.kill("SIGKILL");
  cluster.addPipeliner(); // Asks again for every job not ended, "flaky" included.
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "succeeded", cluster.logs());
  const flaky = result.jobs[0]!;
  assertEquals([flaky.jobId, flaky.attempts, flaky.retryAt], ["flaky", 2, waiting.retryAt]);
  // Its second attempt waited out the back-off; the replay did not start it early.
  assertEquals(flaky.finishedAt! >= waiting.retryAt!, true, cluster.logs());
});

Deno.test("a chain planned ahead ends even when its only pipeliner dies after planning it", async () => {
  await using cluster = await Cluster.start({ waitFor: ["slow", "ok"] });
  const id = await cluster.manager.start({
    graph: { slow: "ok" },
    data: { ms: 1500, n: 1 },
  });
  await waitUntilRunning(cluster, id, 0);
  // The pipeliner sent "slow" with its plan (then "ok", then the end): the Router needs it no more.
  cluster.pipeliners[0]!.kill("SIGKILL");
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "succeeded", cluster.logs());
  assertEquals([result.document.n, result.document.waited], [2, 1500]);
  assertEquals(result.jobs.map((job) => job.status), ["succeeded", "succeeded"]);
});

Deno.test("a one-job pipeline whose job ended before an upgrade is ended on restart", async () => {
  // A store written before one-job pipelines ran without a pipeliner: the job succeeded,
  // the pipeliner had not reported the end yet when the Router stopped.
  const dataDir = await Deno.makeTempDir({ prefix: "pipelinin-upgrade-" });
  writeOldStore(
    dataDir,
    `INSERT INTO pipelines VALUES ('old', 1, 'running', '{"graph":{"ok":[]},"data":{"n":1}}',
      '{"n":1}', NULL, 1, 1, NULL, NULL);
    INSERT INTO jobs VALUES ('old', 'ok', 0,
      '{"jobId":"ok","fn":"ok","status":"succeeded","attempts":1,"output":{"n":2}}');`,
  );
  const router = startRouter({
    api: `tcp://127.0.0.1:${freePort()}`,
    broadcast: `tcp://127.0.0.1:${freePort()}`,
    dataDir,
    http: "off",
  });
  try {
    const record = await (await router.app.request("/pipelines/old")).json();
    assertEquals([record.status, record.document], ["succeeded", { n: 2 }]);
  } finally {
    await router.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
