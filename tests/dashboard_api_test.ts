/**
 * What the dashboard works from, over real HTTP against a cluster of subprocesses:
 * the filtered list of pipelines, retry, a job with its input, per-function stats,
 * and `/metrics` and `/openapi.json` checked by tools we did not write (Prometheus's
 * `promtool`, an OpenAPI 3.1 schema validator).
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { assert, assertEquals } from "./_assert.ts";
import { Cluster, freePort } from "./_cluster.ts";
import { checkMetrics, promtool } from "./_promtool.ts";
import { start as startRouter } from "../router/mod.ts";

const JSON_TYPE = { "content-type": "application/json" };
const ENDED = ["succeeded", "failed", "cancelled"];

async function submit(cluster: Cluster, spec: unknown, key?: string): Promise<string> {
  const response = await fetch(`${cluster.http}/pipelines`, {
    method: "POST",
    headers: { ...JSON_TYPE, ...(key ? { "idempotency-key": key } : {}) },
    body: JSON.stringify(spec),
  });
  const body = await response.json();
  assertEquals(response.status, 201, JSON.stringify(body));
  return body.id;
}

async function get(cluster: Cluster, path: string) {
  const response = await fetch(`${cluster.http}${path}`);
  return { status: response.status, body: await response.json() };
}

async function ended(cluster: Cluster, id: string) {
  const deadline = Date.now() + 30_000;
  while (true) {
    const { body } = await get(cluster, `/pipelines/${id}`);
    if (ENDED.includes(body.status)) return body;
    assert(Date.now() < deadline, `pipeline ${id} did not end\n${cluster.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const listed = async (cluster: Cluster, query: string) => {
  const { status, body } = await get(cluster, `/pipelines?${query}`);
  assertEquals(status, 200, JSON.stringify(body));
  return (body.pipelines as Array<{ id: string }>).map((p) => p.id);
};

Deno.test("GET /pipelines filters by status, function, time and search, and refuses bad queries", async () => {
  await using cluster = await Cluster.start({ waitFor: ["ok", "tag", "nonretryable"] });
  const before = Date.now();
  const a = await submit(cluster, { graph: { ok: "tag" } }, "order-41");
  const b = await submit(cluster, { graph: { nonretryable: [] } });
  await Promise.all([ended(cluster, a), ended(cluster, b)]);
  const between = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const c = await submit(cluster, { graph: { ok: [] } });
  await ended(cluster, c);

  assertEquals(await listed(cluster, "status=failed"), [b]);
  assertEquals(await listed(cluster, "status=failed,succeeded"), [c, b, a]);
  assertEquals(await listed(cluster, "fn=tag"), [a]);
  assertEquals(await listed(cluster, "fn=ok&status=succeeded"), [c, a]);
  assertEquals(await listed(cluster, `since=${before}&until=${between}`), [b, a]);
  assertEquals(await listed(cluster, `since=${new Date(between).toISOString()}`), [c]);
  assertEquals(await listed(cluster, "q=order-41"), [a]);
  assertEquals(await listed(cluster, `q=${b}`), [b]);
  assertEquals((await listed(cluster, `q=${c.slice(0, 13)}`)).includes(c), true);
  const { body: one } = await get(cluster, "/pipelines?q=order-41");
  assertEquals(one.pipelines[0].idempotencyKey, "order-41");
  const first = await get(cluster, "/pipelines?limit=2");
  assertEquals(first.body.pipelines.length, 2);
  assertEquals(await listed(cluster, `limit=2&cursor=${first.body.next}`), [a]);

  for (
    const query of [
      "status=done",
      "status=failed,nope",
      "fn=",
      `fn=${"f".repeat(257)}`,
      "since=yesterday",
      "until=-5",
      `q=${"x".repeat(257)}`,
      "limit=0",
      "limit=501",
      "limit=1e2",
      "cursor=abc",
      "cursor=1234567890123456",
      "sort=asc",
      "status=failed&status=queued",
    ]
  ) {
    const { status, body } = await get(cluster, `/pipelines?${query}`);
    assertEquals(status, 400, `${query}: ${JSON.stringify(body)}`);
    assert(typeof body.error === "string" && body.error.length < 200, body.error);
  }
});

Deno.test("a failed pipeline is retried as a new one from its spec, linked both ways; a running or succeeded one is not", async () => {
  await using cluster = await Cluster.start({ waitFor: ["ok", "slow", "nonretryable"] });
  const failed = await submit(cluster, { graph: { ok: "nonretryable" }, data: { n: 5 } });
  const done = await submit(cluster, { graph: { ok: [] } });
  const running = await submit(cluster, { graph: { slow: [] }, data: { ms: 60_000 } });
  await Promise.all([ended(cluster, failed), ended(cluster, done)]);
  const retry = (id: string, key?: string) =>
    fetch(`${cluster.http}/pipelines/${id}/retry`, {
      method: "POST",
      headers: key ? { "idempotency-key": key } : {},
    }).then(async (r) => ({
      status: r.status,
      body: await r.json(),
      location: r.headers.get("location"),
    }));

  assertEquals((await retry(done)).status, 409);
  assertEquals((await retry(running)).status, 409);
  assertEquals((await retry("no-such-pipeline")).status, 404);
  assertEquals((await retry(failed, "k".repeat(257))).status, 400);

  const again = await retry(failed, "retry-1");
  assertEquals(again.status, 201, JSON.stringify(again.body));
  assertEquals(again.body.retryOf, failed);
  assertEquals(again.location, `/pipelines/${again.body.id}`);
  // The same key is the same retry.
  assertEquals((await retry(failed, "retry-1")).body.id, again.body.id);
  const second = await retry(failed);
  assert(second.body.id !== again.body.id);

  const retried = await ended(cluster, again.body.id);
  assertEquals(retried.spec, (await get(cluster, `/pipelines/${failed}`)).body.spec);
  assertEquals([retried.status, retried.retryOf], ["failed", failed]);
  assertEquals((await get(cluster, `/pipelines/${failed}`)).body.retriedBy, [
    again.body.id,
    second.body.id,
  ]);
  // A cancelled pipeline may be retried too.
  await fetch(`${cluster.http}/pipelines/${running}`, { method: "DELETE" }).then((r) =>
    r.body?.cancel()
  );
  await ended(cluster, running);
  assertEquals((await retry(running)).status, 201);
});

Deno.test("a job is shown with the input it was given, its attempts, host and output", async () => {
  await using cluster = await Cluster.start({ waitFor: ["ok", "tag"] });
  const id = await submit(cluster, {
    graph: { first: "second" },
    jobs: { first: "ok", second: "tag" },
    data: { n: 1, name: "x" },
  });
  await ended(cluster, id);
  const { status, body } = await get(cluster, `/pipelines/${id}/jobs/second`);
  assertEquals(status, 200, JSON.stringify(body));
  assertEquals(body.input, { n: 2, name: "x" });
  assertEquals(body.output, { second: ["n", "name"] });
  assertEquals([body.pipelineId, body.fn, body.attempts], [id, "tag", 1]);
  assert(typeof body.host === "string" && body.host.length > 0, JSON.stringify(body));
  assertEquals((await get(cluster, `/pipelines/${id}/jobs/first`)).body.input, { n: 1, name: "x" });
  assertEquals((await get(cluster, `/pipelines/${id}/jobs/nope`)).status, 404);
  assertEquals((await get(cluster, `/pipelines/nope/jobs/first`)).status, 404);
});

const tool = await promtool();
if ("missing" in tool) {
  // deno-lint-ignore no-console -- says why the promtool test is skipped
  console.warn(`Skipping the promtool check: ${tool.missing}`);
}

Deno.test({
  name: "/metrics passes promtool, with attempts by outcome and the age of the oldest queued job",
  ignore: "missing" in tool,
  async fn() {
    if (!("path" in tool)) return;
    await using cluster = await Cluster.start({
      waitFor: ["ok", "slow", "nonretryable"],
      workers: 1,
    });
    await ended(cluster, await submit(cluster, { graph: { nonretryable: [] } }));
    await ended(cluster, await submit(cluster, { graph: { ok: [] } }));
    // One slot, and a few jobs queued at its broker: the rest wait at the Router.
    for (let i = 0; i < 8; i++) {
      await submit(cluster, { graph: { slow: [] }, data: { ms: 60_000 } });
    }
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const text = await (await fetch(`${cluster.http}/metrics`)).text();
    const checked = await checkMetrics(tool.path, text);
    assert(checked.ok, `promtool check metrics:\n${checked.out}\n${text}`);
    assertEquals(checked.out.trim(), "", `promtool has lint findings:\n${checked.out}`);
    assert(
      text.includes('pipelinin_attempts_total{function="nonretryable",outcome="failed"} 1'),
      text,
    );
    assert(text.includes('pipelinin_attempts_total{function="ok",outcome="succeeded"} 1'), text);
    const depth = [
      ...text.matchAll(/pipelinin_queued_jobs\{function="slow",priority="\d"\} (\S+)/g),
    ]
      .reduce((sum, [, n]) => sum + Number(n), 0);
    assert(depth > 0 && depth < 8, text);
    const age = Number(
      /pipelinin_queue_oldest_age_seconds\{function="slow"\} (\S+)/.exec(text)?.[1],
    );
    assert(age >= 1 && age < 600, text);
    assert(text.includes('pipelinin_queue_oldest_age_seconds{function="ok"} 0'), text);

    const { body } = await get(cluster, "/stats/functions");
    const of = (name: string) => body.functions.find((f: { name: string }) => f.name === name);
    assertEquals(of("slow").queued + of("slow").running, 8, JSON.stringify(of("slow")));
    assert(of("slow").queued > 0, JSON.stringify(of("slow")));
    assert(of("slow").oldestQueuedMs >= 1000, JSON.stringify(of("slow")));
    assertEquals([of("nonretryable").failureRate, of("nonretryable").failed], [1, 1]);
    assertEquals([of("ok").failureRate, of("ok").succeeded], [0, 1]);
    assert(of("ok").perMinute > 0);
  },
});

Deno.test("/openapi.json is a valid OpenAPI 3.1 document that names every route the Router serves", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "pipelinin-openapi-" });
  const router = startRouter({
    api: `tcp://127.0.0.1:${freePort()}`,
    broadcast: `tcp://127.0.0.1:${freePort()}`,
    dataDir,
    http: "off",
  });
  try {
    const document = await (await router.app.request("/openapi.json")).json();
    const validator = new Validator();
    const result = await validator.validate(document);
    assert(result.valid, JSON.stringify(result.errors, null, 2));
    assertEquals(validator.version, "3.1");
    const served = router.app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    const documented = Object.entries(document.paths as Record<string, object>)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    assertEquals([...new Set(served)].sort(), documented.sort());
  } finally {
    await router.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
