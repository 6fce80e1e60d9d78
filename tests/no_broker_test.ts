/**
 * A submit that names a function whose brokers are away for the moment is retryable
 * (HTTP 503 with Retry-After, `retryable: true` on ZeroMQ), also right after a Router
 * restart: the Router remembers which functions the cluster served. A name no broker
 * ever served, or one its broker reported removed, stays a 400.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { RemoteError } from "../core/router_link.ts";
import { PipelineValidationError } from "../mod.ts";

const WAIT = { timeoutMs: 30_000 };

async function post(cluster: Cluster, body: unknown): Promise<Response> {
  return await fetch(`${cluster.http}/pipelines`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** What the client's submit over ZeroMQ throws. */
async function refusal(cluster: Cluster, fn: string): Promise<Error> {
  try {
    await cluster.manager.start({ graph: { [fn]: [] } });
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error(`The submit of "${fn}" was accepted`);
}

/** Waits until no broker serves `fn` (its broker went, or reported it gone). */
async function unserved(cluster: Cluster, fn: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (true) {
    const view = (await cluster.manager.functions()).find((f) => f.name === fn);
    if (!view || view.brokers.length === 0) return;
    if (Date.now() > deadline) throw new Error(`"${fn}" is still served\n${cluster.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function assertAway(cluster: Cluster, fn: string): Promise<void> {
  const response = await post(cluster, { graph: { [fn]: [] } });
  const body = await response.json();
  assertEquals(response.status, 503, JSON.stringify(body));
  assertEquals(response.headers.get("retry-after"), "1");
  assertEquals(body.name, "NoBrokerError");
  assert(body.error.includes(`"${fn}"`), body.error);
  const error = await refusal(cluster, fn);
  assert(error instanceof RemoteError, String(error));
  assertEquals([error.name, error.data.retryable], ["NoBrokerError", true]);
}

async function assertUnknown(cluster: Cluster, fn: string): Promise<void> {
  const response = await post(cluster, { graph: { [fn]: [] } });
  const body = await response.json();
  assertEquals(response.status, 400, JSON.stringify(body));
  assertEquals(body.problems, [`Function "${fn}" is not known to any broker`]);
  const error = await refusal(cluster, fn);
  assert(error instanceof PipelineValidationError, String(error));
  assertEquals(error.problems, [`Function "${fn}" is not known to any broker`]);
}

Deno.test("a function whose broker is away is a retryable 503, also after a Router restart; an unknown one a 400", async () => {
  await using cluster = await Cluster.start({ waitFor: ["ok"] });
  const first = await cluster.manager.run({ graph: { ok: [] } }, WAIT);
  assertEquals(first.status, "succeeded", cluster.logs());

  // The broker stops: "ok" is away, not unknown.
  await cluster.brokers[0]!.stop();
  await unserved(cluster, "ok");
  await assertAway(cluster, "ok");
  await assertUnknown(cluster, "never_served");

  // A Router that starts again with no broker yet still knows "ok" was served.
  cluster.router.kill("SIGKILL");
  await cluster.router.status;
  cluster.restartRouter();
  await cluster.router.waitForOutput("Router listening");
  await assertAway(cluster, "ok");
  await assertUnknown(cluster, "never_served");

  // Once a broker serves it again, the same submit runs.
  cluster.addBroker();
  await cluster.waitForFunctions(["ok"]);
  const again = await cluster.manager.run({ graph: { ok: [] } }, WAIT);
  assertEquals(again.status, "succeeded", cluster.logs());
});

Deno.test("a function its broker reported removed is unknown again: 400, not 503", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-removed-" });
  try {
    await Deno.copyFile("tests/fixtures/functions/ok.ts", `${dir}/ok.ts`);
    await Deno.copyFile("tests/fixtures/functions/ok.ts", `${dir}/gone.ts`);
    await using cluster = await Cluster.start({ functionsDir: dir, waitFor: ["ok", "gone"] });
    const ran = await cluster.manager.run({ graph: { gone: [] } }, WAIT);
    assertEquals(ran.status, "succeeded", cluster.logs());
    await Deno.remove(`${dir}/gone.ts`);
    await unserved(cluster, "gone");
    await assertUnknown(cluster, "gone");
    // Still so after a restart: the removal was stored.
    cluster.router.kill("SIGKILL");
    await cluster.router.status;
    cluster.restartRouter();
    await cluster.waitForFunctions(["ok"]);
    await assertUnknown(cluster, "gone");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
