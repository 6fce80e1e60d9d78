/**
 * Two Routers on one PostgreSQL: the standby waits unbound and says who is active,
 * takes over from a killed active with every pipeline it had, fences an old active
 * that was paused past its lease, and the cluster rides out a PostgreSQL restart.
 */
import { assert, assertEquals } from "./_assert.ts";
import { TempPostgres } from "./_postgres.ts";
import { PgPair, PgRouter } from "./_replicated.ts";
import { TcpProxy } from "./_tcp_proxy.ts";
import { checkMetrics, promtool } from "./_promtool.ts";

const WAIT = { timeoutMs: 60_000 };

Deno.test("a standby Router answers 503 with the active's endpoint, and takes over from a killed active with its pipelines", async () => {
  await using pg = await TempPostgres.start();
  await using a = PgRouter.start("router-a", pg.url);
  await a.waitForHealth((h) => h?.status === 200 && h.role === "active", "A active");
  await using b = PgRouter.start("router-b", pg.url);
  const standby = await b.waitForHealth((h) => h?.role === "standby" && !!h.active, "B standby");
  assertEquals(standby, { status: 503, role: "standby", active: a.api });
  await a.waitForFunction("slow");

  // Through A: pipelines that are running when it dies, and some that ended before.
  const done = await a.manager.run({ graph: { ok: [] }, data: { n: 1 } }, WAIT);
  assertEquals(done.status, "succeeded");
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    ids.push(await a.manager.start({ graph: { slow: ["ok"] }, data: { ms: 2000, n: i } }));
  }
  const killed = performance.now();
  a.router.kill("SIGKILL");
  await a.router.status;

  await b.waitForHealth((h) => h?.status === 200 && h.role === "active", "B active");
  const active = performance.now() - killed;
  let firstEnded = 0;
  for (const [i, id] of ids.entries()) {
    const result = await b.manager.wait(id, WAIT);
    firstEnded ||= performance.now() - killed;
    assertEquals(result.status, "succeeded", b.logs());
    assertEquals([result.document.n, result.document.waited], [i + 1, 2000]);
  }
  // deno-lint-ignore no-console -- the takeover's figures, for the closing note
  console.log(
    `takeover with a 1.5 s lease: B active ${
      Math.round(active)
    } ms after the kill, the first pipeline ended ${Math.round(firstEnded)} ms after it`,
  );
  assertEquals((await b.manager.status(done.id)).document.n, 2);
});

Deno.test("an active Router paused past its lease does not act again when it resumes; the new active carries on", async () => {
  await using pg = await TempPostgres.start();
  // It binds one address and is reached at another (a wildcard bind, a NAT): standbys say the latter.
  await using a = PgRouter.start("router-a", pg.url, {
    args: ["--advertise", "tcp://router-a.example:5555"],
  });
  await a.waitForHealth((h) => h?.status === 200 && h.role === "active", "A active");
  await using b = PgRouter.start("router-b", pg.url);
  const standby = await b.waitForHealth((h) => h?.role === "standby" && !!h.active, "B standby");
  assertEquals(standby?.active, "tcp://router-a.example:5555");
  await a.waitForFunction("slow");
  const before = await a.manager.start({ graph: { slow: ["ok"] }, data: { ms: 1500, n: 0 } });

  a.router.kill("SIGSTOP");
  try {
    await b.waitForHealth((h) => h?.status === 200 && h.role === "active", "B active");
    await b.waitForFunction("slow");
    const during = await b.manager.start({ graph: { slow: ["ok"] }, data: { ms: 3000, n: 10 } });
    // A wakes up while B's pipeline runs: its first request must not be acknowledged.
    a.router.kill("SIGCONT");
    const submit = await fetch(`${a.http}/pipelines`, {
      method: "POST",
      body: JSON.stringify({ graph: { ok: [] }, data: { n: 100 } }),
      signal: AbortSignal.timeout(5000),
    }).then(async (response) => ({ status: response.status, body: await response.text() }))
      .catch((error) => ({ status: 0, body: String(error) }));
    assert(submit.status !== 201, `the paused Router acknowledged a submit: ${submit.body}`);
    // Fenced, it halts and starts again by itself, as a standby of the new active.
    const standby = await a.waitForHealth(
      (h) => h?.role === "standby" && h.active === b.api,
      "the old active to stand by",
    );
    assertEquals(standby?.status, 503);
    assert(a.router.output.includes("Fenced"), a.logs());

    for (const [id, n, waited] of [[before, 1, 1500], [during, 11, 3000]] as const) {
      const result = await b.manager.wait(id, WAIT);
      assertEquals([result.status, result.document.n, result.document.waited], [
        "succeeded",
        n,
        waited,
      ], b.logs());
    }
    assertEquals((await b.health())?.role, "active");
  } finally {
    a.router.kill("SIGCONT");
  }
});

Deno.test("peers that know both Routers: an active paused past its lease, then resumed, does not disturb the new active's run", async () => {
  await using pg = await TempPostgres.start();
  await using pair = await PgPair.start(pg.url, { brokers: 2 });
  await pair.waitForBrokers("slow", 2);
  const first = await Promise.all(
    Array.from(
      { length: 20 },
      (_, n) => pair.manager.start({ graph: { slow: ["ok"] }, data: { ms: 300, n } }),
    ),
  );
  pair.a.router.kill("SIGSTOP");
  try {
    await pair.b.waitForHealth((h) => h?.status === 200 && h.role === "active", "B active");
    await pair.waitForBrokers("slow", 2);
    const second = await Promise.all(
      Array.from(
        { length: 20 },
        (_, n) => pair.manager.start({ graph: { slow: ["ok"] }, data: { ms: 300, n: 100 + n } }),
      ),
    );
    // A wakes up while B runs: it fences itself and stands by; peers keep to B.
    pair.a.router.kill("SIGCONT");
    await pair.a.waitForHealth((h) => h?.role === "standby", "the old active to stand by");
    for (const [i, id] of [...first, ...second].entries()) {
      const result = await pair.manager.wait(id, WAIT);
      const n = i < 20 ? i : 100 + i - 20;
      assertEquals([result.status, result.document.n, result.document.waited], [
        "succeeded",
        n + 1,
        300,
      ], pair.logs());
      assertEquals(result.jobs.map((j) => j.attemptErrors), [undefined, undefined]);
    }
    assertEquals((await pair.b.health())?.role, "active");
    assertEquals((await pair.a.health())?.role, "standby");
  } finally {
    pair.a.router.kill("SIGCONT");
  }
});

Deno.test("a PostgreSQL restart in the middle of a run: the Router holds its answers, reconnects, and every pipeline ends right", async () => {
  await using pg = await TempPostgres.start();
  await using a = PgRouter.start("router-a", pg.url, { leaseMs: 8000, brokers: 2 });
  await a.waitForHealth((h) => h?.status === 200 && h.role === "active", "A active");
  await a.waitForFunction("slow");
  const ids: string[] = [];
  for (let i = 0; i < 40; i++) {
    ids.push(
      await a.manager.start({ graph: { slow: ["ok"] }, data: { ms: 100 * (i % 10), n: i } }),
    );
  }
  const explained = (error: unknown) => {
    throw new Error(`${error}\n${a.logs()}\n--- postgres ---\n${pg.log.slice(-3000)}`);
  };
  const waiting = Promise.all(ids.map((id) => a.manager.wait(id, WAIT))).catch(explained);
  await pg.stopServer("fast");
  // Submitted while PostgreSQL is down: not answered before it is back (and committed).
  let answered = false;
  const late = a.manager.start({ graph: { ok: [] }, data: { n: 1000 } });
  void late.then(() => answered = true, () => {});
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assertEquals(answered, false, "a submit was acknowledged while PostgreSQL was down");
  await pg.startServer();
  const results = await waiting;
  for (const [i, result] of results.entries()) {
    assertEquals([result.status, result.document.n], ["succeeded", i + 1], a.logs());
  }
  const lateResult = await a.manager.wait(await late, WAIT).catch(explained);
  assertEquals(lateResult.document.n, 1001);
  assertEquals((await a.health())?.role, "active", a.logs());
  assert(a.router.output.includes("PostgreSQL commit failed"), "PostgreSQL was never missed");
});

Deno.test("PostgreSQL away for longer than the lease: the Router halts, stands by, takes the lease back when PostgreSQL returns, and every pipeline acknowledged ends right", async () => {
  await using pg = await TempPostgres.start();
  await using a = PgRouter.start("router-a", pg.url, { leaseMs: 1500 });
  await a.waitForHealth((h) => h?.status === 200 && h.role === "active", "A active");
  await a.waitForFunction("slow");
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    ids.push(await a.manager.start({ graph: { slow: ["ok"] }, data: { ms: 100 * (i % 5), n: i } }));
  }
  await pg.stopServer("fast");
  // Past the lease: fenced, it answers nothing as active, and the process stays.
  await a.waitForHealth((h) => h?.status === 503, "A to stop acting");
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assertEquals((await a.health())?.status, 503, a.logs());
  await pg.startServer();
  await a.waitForHealth((h) => h?.status === 200 && h.role === "active", "A active again");
  const explained = (error: unknown) => {
    throw new Error(`${error}\n${a.logs()}`);
  };
  const results = await Promise.all(ids.map((id) => a.manager.wait(id, WAIT))).catch(explained);
  for (const [i, result] of results.entries()) {
    assertEquals([result.status, result.document.n], ["succeeded", i + 1], a.logs());
  }
  const after = await a.manager.run({ graph: { ok: [] }, data: { n: 7 } }, WAIT);
  assertEquals(after.document.n, 8);
  assert(a.router.output.includes("Fenced"), a.logs());
  assert(a.router.output.includes("Starting again as a standby"), a.logs());
});

Deno.test("a connection that goes silent while a new active loads the state: it gives the load up, loads again, and takes over", async () => {
  await using pg = await TempPostgres.start();
  await using proxy = new TcpProxy(pg.port);
  await using a = PgRouter.start("router-a", pg.url);
  await a.waitForHealth((h) => h?.status === 200 && h.role === "active", "A active");
  await a.waitForFunction("slow");
  // A state worth loading: about 1.5 MB of rows.
  const pad = "x".repeat(2000);
  const ids = await Promise.all(
    Array.from(
      { length: 300 },
      (_, n) => a.manager.start({ graph: { slow: ["ok"] }, data: { ms: 20, n, pad } }),
    ),
  );
  await Promise.all(ids.map((id) => a.manager.wait(id, WAIT)));
  const url = pg.url.replace(`:${pg.port}/`, `:${proxy.port}/`);
  await using b = PgRouter.start("router-b", url);
  await b.waitForHealth((h) => h?.role === "standby" && !!h.active, "B standby");
  // Every connection goes silent once one has carried 200 KB from PostgreSQL: the load.
  proxy.silenceAfter(200_000);
  a.router.kill("SIGKILL");
  await a.router.status;
  await b.waitForHealth((h) => h?.status === 200 && h.role === "active", "B active");
  assert(b.router.output.includes("No answer from PostgreSQL"), b.logs());
  await b.waitForFunction("slow");
  for (const [n, id] of ids.entries()) {
    const result = await b.manager.status(id);
    assertEquals([result.status, result.document.n], ["succeeded", n + 1]);
  }
  const after = await b.manager.run({ graph: { ok: [] }, data: { n: 1 } }, WAIT);
  assertEquals(after.document.n, 2);
});

Deno.test("PostgreSQL connections that go silent (a black hole: no FIN, no RST): the Router gives them up, opens new ones, and every pipeline ends right", async () => {
  await using pg = await TempPostgres.start();
  await using proxy = new TcpProxy(pg.port);
  const url = pg.url.replace(`:${pg.port}/`, `:${proxy.port}/`);
  await using a = PgRouter.start("router-a", url, { leaseMs: 3000 });
  await a.waitForHealth((h) => h?.status === 200 && h.role === "active", "A active");
  await a.waitForFunction("slow");
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    ids.push(await a.manager.start({ graph: { slow: ["ok"] }, data: { ms: 50 * (i % 5), n: i } }));
  }
  const before = proxy.connections;
  proxy.silence();
  const explained = (error: unknown) => {
    throw new Error(`${error}\n${a.logs()}`);
  };
  const results = await Promise.all(ids.map((id) => a.manager.wait(id, WAIT))).catch(explained);
  for (const [i, result] of results.entries()) {
    assertEquals([result.status, result.document.n], ["succeeded", i + 1], a.logs());
  }
  assertEquals((await a.health())?.role, "active", a.logs());
  assert(proxy.connections > before, `no new connection after the silence\n${a.logs()}`);
  assert(a.router.output.includes("stalled"), `no call on PostgreSQL stalled\n${a.logs()}`);
  const metrics = await (await fetch(`${a.http}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(metrics)?.[1]);
  assert(value("pipelinin_store_mirror_clients_replaced_total") >= 1, metrics);
  assert(value("pipelinin_store_mirror_retries_total") >= 1, metrics);
  assert(value("pipelinin_store_mirror_commits_total") > 0, metrics);
  assert(value("pipelinin_store_mirror_lag_seconds") >= 0, metrics);
  const tool = await promtool();
  if ("path" in tool) {
    const checked = await checkMetrics(tool.path, metrics);
    assert(checked.ok, checked.out);
  }
});
