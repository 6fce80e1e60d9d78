/**
 * The Router's HTTP front: every route and status code through `app.request()` on
 * an in-process Router (real broker and pipeliner subprocesses), then over real HTTP
 * against a cluster of subprocesses.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster, Daemon, freePort } from "./_cluster.ts";
import { DAEMON_FLAGS } from "../deno_flags.ts";
import { start as startRouter } from "../router/mod.ts";
import type { RouterConfig, RouterHandle } from "../router/mod.ts";

const JSON_TYPE = { "content-type": "application/json" };

/** An in-process Router with one broker and one pipeliner as subprocesses. */
async function withRouter(
  config: RouterConfig,
  fn: (router: RouterHandle) => Promise<void>,
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "pipelinin-http-" });
  const router = startRouter({
    api: `tcp://127.0.0.1:${freePort()}`,
    broadcast: `tcp://127.0.0.1:${freePort()}`,
    dataDir,
    http: "off",
    ...config,
  });
  const daemons = [
    new Daemon("broker", [
      "run",
      ...DAEMON_FLAGS.broker,
      "broker/main.ts",
      "--router",
      router.api,
      "--functions",
      "tests/fixtures/functions",
      "--workers",
      "2",
    ]),
    new Daemon("pipeliner", [
      "run",
      ...DAEMON_FLAGS.pipeliner,
      "pipeliner/main.ts",
      "--router",
      router.api,
    ]),
  ];
  try {
    const deadline = Date.now() + 30_000;
    while (!router.registry.runnable().has("slow") || router.registry.pipeliners.size === 0) {
      assert(Date.now() < deadline, daemons.map((d) => d.output).join("\n"));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await fn(router);
  } finally {
    await Promise.all(daemons.map((d) => d.stop()));
    await router.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}

async function post(router: RouterHandle, body: unknown, headers: Record<string, string> = {}) {
  return await router.app.request("/pipelines", {
    method: "POST",
    headers: { ...JSON_TYPE, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function waitEnded(router: RouterHandle, id: string) {
  const deadline = Date.now() + 30_000;
  while (true) {
    const record = await (await router.app.request(`/pipelines/${id}`)).json();
    if (["succeeded", "failed", "cancelled"].includes(record.status)) return record;
    assert(Date.now() < deadline, `pipeline ${id} did not end`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("HTTP routes answer with the right status codes and bodies", () =>
  withRouter({ maxBodyBytes: 10_000 }, async (router) => {
    // 201 with Location, then the record.
    const created = await post(router, { graph: { ok: [] }, data: { n: 1 } });
    assertEquals(created.status, 201);
    const { id, status } = await created.json();
    assertEquals(status, "queued");
    assertEquals(created.headers.get("location"), `/pipelines/${id}`);
    const done = await waitEnded(router, id);
    assertEquals([done.status, done.document.n], ["succeeded", 2]);

    // 400 listing every problem; malformed JSON; 413; 415.
    const invalid = await post(router, { graph: { a: "b", b: "a" }, jobs: { a: "nope", b: "ok" } });
    assertEquals(invalid.status, 400);
    const problems = (await invalid.json()).problems as string[];
    assert(problems.some((p) => p.startsWith("Cycle")), problems.join());
    assert(problems.includes('Function "nope" is not known to any broker'), problems.join());
    const malformed = await post(router, "{not json");
    assertEquals(malformed.status, 400);
    assert((await malformed.json()).error.includes("Malformed JSON"));
    const big = await post(router, { graph: { ok: [] }, data: { pad: "x".repeat(20_000) } });
    assertEquals(big.status, 413);
    await big.body?.cancel();
    const text = await router.app.request("/pipelines", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "{}",
    });
    assertEquals(text.status, 415);
    await text.body?.cancel();

    // Idempotency-Key returns the first id again.
    const first = await (await post(router, { graph: { ok: [] } }, { "idempotency-key": "k1" }))
      .json();
    const again = await (await post(router, { graph: { ok: [] } }, { "idempotency-key": "k1" }))
      .json();
    assertEquals(again.id, first.id);

    // List: newest first, paged, filtered.
    const page1 = await (await router.app.request("/pipelines?limit=1")).json();
    assertEquals(page1.pipelines.length, 1);
    assertEquals(page1.pipelines[0].id, first.id);
    assert(page1.next, "a next cursor");
    const page2 = await (await router.app.request(`/pipelines?limit=1&cursor=${page1.next}`))
      .json();
    assertEquals(page2.pipelines[0].id, id);
    await waitEnded(router, first.id);
    const succeeded = await (await router.app.request("/pipelines?status=succeeded")).json();
    assertEquals(succeeded.pipelines.length, 2);
    assertEquals((await router.app.request("/pipelines?status=nope")).status, 400);
    assertEquals((await router.app.request("/pipelines?limit=0")).status, 400);

    // 404s.
    assertEquals((await router.app.request("/pipelines/unknown")).status, 404);
    assertEquals(
      (await router.app.request("/pipelines/unknown", { method: "DELETE" })).status,
      404,
    );
    assertEquals((await router.app.request("/nowhere")).status, 404);

    // Cancel a running one: 200, then 409.
    const slow = await (await post(router, { graph: { slow: ["ok"] }, data: { ms: 20_000 } }))
      .json();
    const deadline = Date.now() + 10_000;
    while (
      (await (await router.app.request(`/pipelines/${slow.id}`)).json()).jobs[0].status !==
        "running"
    ) {
      assert(Date.now() < deadline, "slow never ran");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const cancel = await router.app.request(`/pipelines/${slow.id}`, { method: "DELETE" });
    assertEquals([cancel.status, (await cancel.json()).status], [200, "cancelled"]);
    assertEquals(
      (await router.app.request(`/pipelines/${slow.id}`, { method: "DELETE" })).status,
      409,
    );

    // Functions, brokers, health, stats, metrics, OpenAPI, dashboard.
    const functions = (await (await router.app.request("/functions")).json()).functions;
    assert(
      functions.some((f: { name: string; brokers: string[] }) =>
        f.name === "ok" && f.brokers.length === 1
      ),
    );
    const brokers = (await (await router.app.request("/brokers")).json()).brokers;
    assertEquals(brokers.length, 1);
    assertEquals(brokers[0].slots, 2);
    for (const host of brokers[0].hosts) {
      assert(host.functions.includes("ok"), "a host's functions");
    }
    assertEquals((await (await router.app.request("/health")).json()).status, "ok");
    const stats = await (await router.app.request("/stats")).json();
    assertEquals(stats.jobsPerSecond.length, 120);
    assert(stats.jobsPerSecond.some((b: { rate: number }) => b.rate > 0));
    const metrics = await router.app.request("/metrics");
    assert(metrics.headers.get("content-type")!.startsWith("text/plain"));
    const body = await metrics.text();
    assert(body.includes('pipelinin_pipelines{status="succeeded"} 2'), body);
    assert(body.includes('pipelinin_jobs_total{function="ok",status="succeeded"} 2'), body);
    assert(body.includes('pipelinin_job_duration_seconds_bucket{function="ok",le="+Inf"} 2'), body);
    assert(body.includes("pipelinin_brokers 1"), body);
    assert(body.includes("pipelinin_late_results_total 0"), body); // Nothing came late.
    const spec = await (await router.app.request("/openapi.json")).json();
    for (
      const path of [
        "/pipelines",
        "/pipelines/{id}",
        "/pipelines/{id}/events",
        "/metrics",
        "/brokers",
        "/pipelines/{id}/signals/{name}",
        "/pipelines/{id}/jobs/{jobId}/items",
        "/pipelines/{id}/jobs/{jobId}/items/{index}",
      ]
    ) {
      assert(spec.paths[path], `OpenAPI lacks ${path}`);
    }
    const curl = await router.app.request("/pipelines", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: JSON.stringify({ graph: { ok: [] } }),
    });
    assertEquals(curl.status, 201, "curl -d sends JSON as a form");
    await curl.body?.cancel();
    const page = await router.app.request("/");
    assert((await page.text()).includes("<"), "the dashboard page");
  }));

Deno.test("a pipeline's event stream sends a snapshot, each change, and ends with the pipeline", () =>
  withRouter({}, async (router) => {
    const { id } = await (await post(router, { graph: { ok: ["slow"] }, data: { ms: 300 } }))
      .json();
    const response = await router.app.request(`/pipelines/${id}/events`);
    assertEquals(response.headers.get("content-type"), "text/event-stream");
    const text = await response.text(); // Ends when the pipeline ends.
    const events = text.split("\n\n").filter((block) => block.includes("event:")).map((block) => ({
      event: /event: (.+)/.exec(block)![1],
      data: JSON.parse(/data: (.+)/.exec(block)![1]!),
    }));
    assertEquals(events[0]!.event, "snapshot");
    const last = events.at(-1)!;
    assertEquals([last.event, last.data.status], ["pipeline", "succeeded"]);
    assert(
      events.some((e) =>
        e.data.jobs?.[0]?.status === "succeeded" && e.data.jobs[1].status === "running"
      ),
    );
    // A late client gets the current (final) state and the stream ends at once.
    const late = await (await router.app.request(`/pipelines/${id}/events`)).text();
    assert(late.includes("event: snapshot") && late.includes('"status":"succeeded"'), late);
    assertEquals((await router.app.request("/pipelines/unknown/events")).status, 404);
  }));

Deno.test("with a token, every route but /health wants it; over load the Router answers 429", () =>
  withRouter({ token: "s3cret", maxActive: 1 }, async (router) => {
    assertEquals((await router.app.request("/health")).status, 200);
    const denied = await router.app.request("/pipelines");
    assertEquals(denied.status, 401);
    assert(denied.headers.get("www-authenticate")?.startsWith("Bearer"));
    assertEquals(
      (await router.app.request("/pipelines", { headers: { authorization: "Bearer nope" } }))
        .status,
      401,
    );
    const auth = { authorization: "Bearer s3cret" };
    assertEquals((await router.app.request("/pipelines", { headers: auth })).status, 200);
    assertEquals((await router.app.request("/metrics?token=s3cret")).status, 200);
    const slow = await post(router, { graph: { slow: [] }, data: { ms: 2000 } }, auth);
    assertEquals(slow.status, 201);
    const refused = await post(router, { graph: { ok: [] } }, auth);
    assertEquals(refused.status, 429);
    assertEquals(refused.headers.get("retry-after"), "1");
    assertEquals((await refused.json()).name, "TooManyPipelinesError");
    await router.app.request(`/pipelines/${(await slow.json()).id}`, {
      method: "DELETE",
      headers: auth,
    });
  }));

Deno.test("over real HTTP: submit with curl-like fetch, follow SSE to the end, read, cancel", async () => {
  await using cluster = await Cluster.start({ waitFor: ["ok", "slow"] });
  const created = await fetch(`${cluster.http}/pipelines`, {
    method: "POST",
    headers: JSON_TYPE,
    body: JSON.stringify({ graph: { a: "b" }, jobs: { a: "ok", b: "ok" }, data: { n: 1 } }),
  });
  assertEquals(created.status, 201);
  const { id } = await created.json();
  const stream = await fetch(`${cluster.http}/pipelines/${id}/events`);
  const text = await stream.text();
  assert(text.includes('"status":"succeeded"'), text);
  const record = await (await fetch(`${cluster.http}${created.headers.get("location")}`)).json();
  assertEquals([record.status, record.document.n], ["succeeded", 3]);

  const slow = await (await fetch(`${cluster.http}/pipelines`, {
    method: "POST",
    headers: JSON_TYPE,
    body: JSON.stringify({ graph: { slow: [] }, data: { ms: 30_000 } }),
  })).json();
  const cancelled = await fetch(`${cluster.http}/pipelines/${slow.id}`, { method: "DELETE" });
  assertEquals(cancelled.status, 200);
  await cancelled.body?.cancel();
  const result = await cluster.manager.wait(slow.id, { timeoutMs: 10_000 });
  assertEquals(result.status, "cancelled");
});
