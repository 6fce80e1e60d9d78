/**
 * Peers follow the active Router among several: brokers, their worker hosts,
 * pipeliners and the client are given every Router's endpoint and talk to whichever
 * one is bound. On SQLite two Routers cannot share a data dir at once, so a takeover is
 * played as a standby plays it minus the database: the Router running stops (kill -9
 * or SIGTERM), and another one starts on other ports and the same data dir. The HTTP
 * client's cases use real standbys, on PostgreSQL.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster, Daemon, freePort } from "./_cluster.ts";
import { DAEMON_FLAGS } from "../deno_flags.ts";
import { TempPostgres } from "./_postgres.ts";
import { PgPair, PgRouter } from "./_replicated.ts";
import { JobLogClient, PipelineManager } from "../mod.ts";

const WAIT = { timeoutMs: 90_000 };

Deno.test("kill -9 the Router mid-run and start another on other ports and the same data dir: peers given both move to it, every pipeline ends once, right", async () => {
  await using cluster = await Cluster.start({
    routers: 2,
    workers: 4,
    waitFor: ["slow", "ok"],
  });
  const ms = 150;
  const ids = await Promise.all(
    Array.from({ length: 200 }, (_, n) =>
      cluster.manager.start({
        graph: { a: "b" },
        jobs: { a: "slow", b: "ok" },
        data: { n, ms },
      })),
  );
  // Mid-run: some pipelines ended, most not.
  await cluster.manager.wait(ids[0]!, WAIT);
  const killedAt = Date.now();
  cluster.router.kill("SIGKILL");
  await cluster.router.status;
  cluster.startRouterAt(1);
  await cluster.router.waitForOutput("Router listening");
  const listeningAt = Date.now();

  let firstAfter = Infinity;
  const pipelines = new Set<string>();
  for (const [n, id] of ids.entries()) {
    const result = await cluster.manager.wait(id, WAIT);
    assertEquals(result.status, "succeeded", cluster.logs());
    assertEquals([result.document.n, result.document.waited], [n + 1, ms]);
    // One outcome per job, none of them a failed attempt.
    assertEquals(result.jobs.map((j) => [j.jobId, j.status]), [["a", "succeeded"], [
      "b",
      "succeeded",
    ]]);
    assertEquals(result.jobs.map((j) => j.attemptErrors), [undefined, undefined]);
    const startedAt = Number(result.document.startedAt);
    if (startedAt > killedAt) firstAfter = Math.min(firstAfter, startedAt);
    pipelines.add(result.id);
  }
  assertEquals(pipelines.size, 200);
  // The pipelines were B's to end: B's HTTP knows them, A's endpoint is gone.
  const record = await fetch(`${cluster.http}/pipelines/${ids[199]}`);
  assertEquals(record.status, 200);
  await record.body?.cancel();
  assert(firstAfter < Infinity, `no job ran after the kill\n${cluster.logs()}`);
  // deno-lint-ignore no-console -- the takeover time the issue asks for, not asserted
  console.log(
    `takeover: kill -> B listening ${listeningAt - killedAt} ms, -> first job running on B ${
      firstAfter - killedAt
    } ms`,
  );
});

Deno.test("peers given two Routers work with the second only, then move to the first when the second goes", async () => {
  await using cluster = await Cluster.start({ routers: 2, first: 1, waitFor: ["slow", "ok"] });
  const before = await cluster.manager.run({ graph: { a: "b" }, jobs: { a: "ok", b: "ok" } }, WAIT);
  assertEquals([before.status, before.document.n], ["succeeded", 2], cluster.logs());
  const logs = new JobLogClient({ url: cluster.routers.map((r) => r.http) });
  assertEquals(await logs.read(before.id, "a"), []);
  // Pipelines in flight while the second one stops, as a Router that lost its lease
  // closes its sockets, and the first one takes over.
  const flying = await Promise.all(
    Array.from({ length: 20 }, (_, n) =>
      cluster.manager.start({
        graph: { a: "b" },
        jobs: { a: "slow", b: "ok" },
        data: { n, ms: 300 },
      })),
  );
  await cluster.router.stop();
  cluster.startRouterAt(0);
  await cluster.router.waitForOutput("Router listening");
  for (const [n, id] of flying.entries()) {
    const result = await cluster.manager.wait(id, WAIT);
    assertEquals([result.status, result.document.n], ["succeeded", n + 1], cluster.logs());
  }
  // New work goes to the first Router: the broker and pipeliner moved to it.
  const after = await cluster.manager.run(
    { graph: { a: "b" }, jobs: { a: "ok", b: "ok" }, data: { n: 10 } },
    WAIT,
  );
  assertEquals([after.status, after.document.n], ["succeeded", 12], cluster.logs());
  // The log reader moved too: the second Router's HTTP is gone, the first one answers.
  assertEquals(await logs.read(after.id, "a"), []);
});

Deno.test("with CURVE, peers given two Routers on the same key move from one to the other", async () => {
  await using cluster = await Cluster.start({ routers: 2, curve: true, waitFor: ["ok"] });
  const before = await cluster.manager.run({ graph: { a: "b" }, jobs: { a: "ok", b: "ok" } }, WAIT);
  assertEquals([before.status, before.document.n], ["succeeded", 2], cluster.logs());
  cluster.router.kill("SIGKILL");
  await cluster.router.status;
  cluster.startRouterAt(1);
  // Until the brokers rejoined, a submit is refused as retryable (NoBrokerError).
  await cluster.waitForFunctions(["ok"]);
  const after = await cluster.manager.run(
    { graph: { a: "b" }, jobs: { a: "ok", b: "ok" }, data: { n: 5 } },
    WAIT,
  );
  assertEquals([after.status, after.document.n], ["succeeded", 7], cluster.logs());
});

Deno.test("a SIGSTOPped Router's connections are dropped: peers given it and a live one talk only to the live one", async () => {
  await using cluster = await Cluster.start({ routers: 2, waitFor: ["ok"] });
  // The paused one keeps its sockets bound, as an old active paused past its lease
  // does; the other starts on a data dir of its own (SQLite cannot share one).
  const paused = cluster.router;
  const dataDir = await Deno.makeTempDir({ prefix: "pipelinin-test-" });
  const client = new PipelineManager({
    api: cluster.routers.map((r) => r.api),
    requestTimeoutMs: 2000,
  });
  try {
    paused.kill("SIGSTOP");
    cluster.startRouterAt(1, dataDir);
    await cluster.waitForFunctions(["ok"]);
    // Without heartbeats, the DEALER would keep handing every other request to the
    // paused Router, whose kernel still takes the bytes: those would time out.
    for (let n = 0; n < 20; n++) {
      const served = await client.functions();
      assert(served.some((f) => f.name === "ok" && f.brokers.length > 0), JSON.stringify(served));
    }
    const result = await client.run({ graph: { a: "b" }, jobs: { a: "ok", b: "ok" } }, WAIT);
    assertEquals([result.status, result.document.n], ["succeeded", 2], cluster.logs());
  } finally {
    await client.close();
    paused.kill("SIGKILL");
    await paused.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("the client finds the active Router past one that is down and a standby", async () => {
  // ZeroMQ: Routers 0 and 1 never bind (down, or a standby: neither binds), 2 is active.
  await using cluster = await Cluster.start({ routers: 3, first: 2, waitFor: ["ok"] });
  const result = await cluster.manager.run({ graph: { ok: [] }, data: { n: 1 } }, WAIT);
  assertEquals([result.status, result.document.n], ["succeeded", 2], cluster.logs());

  // HTTP: past a port nobody listens on and a real standby (503, role standby) to the active.
  await using pg = await TempPostgres.start();
  await using a = PgRouter.start("router-a", pg.url);
  await a.waitForHealth((h) => h?.status === 200 && h.role === "active", "A active");
  await using b = PgRouter.start("router-b", pg.url, { brokers: 0, pipeliners: 0 });
  await b.waitForHealth((h) => h?.role === "standby", "B standby");
  await a.waitForFunction("logs");
  const logged = await a.manager.run({ graph: { logs: [] } }, WAIT);
  const down = `http://127.0.0.1:${freePort()}`;
  const logs = new JobLogClient({ url: [down, b.http, a.http] });
  const lines = await logs.read(logged.id, "logs");
  assert(lines.some((line) => line.message === "Working on job"), JSON.stringify(lines));
});

Deno.test("the log reader moves on when the Router it stuck to turns standby", async () => {
  await using pg = await TempPostgres.start();
  await using pair = await PgPair.start(pg.url, { brokers: 1 });
  await pair.waitForBrokers("logs", 1);
  const logged = await pair.manager.run({ graph: { logs: [] } }, WAIT);
  const logs = new JobLogClient({ url: [pair.a.http, pair.b.http] });
  const first = await logs.read(logged.id, "logs");
  assert(first.some((line) => line.message === "Working on job"), JSON.stringify(first));
  // A is paused past its lease: B takes over, and A, resumed, is fenced and stands by.
  pair.a.router.kill("SIGSTOP");
  try {
    await pair.b.waitForHealth((h) => h?.status === 200 && h.role === "active", "B active");
  } finally {
    pair.a.router.kill("SIGCONT");
  }
  await pair.a.waitForHealth((h) => h?.role === "standby", "A to stand by");
  // The reader stuck to A; A refuses, and B, which loaded the logs from PostgreSQL, answers.
  assertEquals(await logs.read(logged.id, "logs"), first);
});

Deno.test("a bad endpoint in --router is refused at start with a clear error", async () => {
  for (
    const [program, flags] of [
      ["broker/main.ts", DAEMON_FLAGS.broker],
      ["pipeliner/main.ts", DAEMON_FLAGS.pipeliner],
    ] as const
  ) {
    const daemon = new Daemon(program, [
      "run",
      ...flags,
      program,
      "--router",
      "tcp://127.0.0.1:5555,tcp://nowhere",
    ]);
    const status = await daemon.status;
    await daemon.stop();
    assertEquals(status.code, 1, daemon.output);
    assert(
      daemon.output.includes('--router has a bad Router endpoint "tcp://nowhere"'),
      daemon.output,
    );
  }
  // The client too, at construction.
  let message = "";
  try {
    new PipelineManager({ api: ["tcp://127.0.0.1:5555", "http://127.0.0.1:8080"] });
  } catch (error) {
    message = (error as Error).message;
  }
  assert(message.includes('bad Router endpoint "http://127.0.0.1:8080"'), message);
});
