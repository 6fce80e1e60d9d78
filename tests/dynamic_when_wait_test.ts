/**
 * `when` and `wait` jobs on a real cluster: a condition that holds, one that does
 * not (the job is skipped, its children still run), nested ones; a waiting job that
 * holds no slot and resumes on its signal, across a Router restart too, or fails at
 * its timeout; and invalid options refused with every problem listed.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { type PipelineSpec, PipelineValidationError, RemoteError } from "../mod.ts";

const WAIT = { timeoutMs: 60_000 };

Deno.test("when: a condition that holds runs the job, one that does not skips it and its children run; nested too", async () => {
  await using cluster = await Cluster.start({ waitFor: ["tag", "map_item"] });
  const result = await cluster.manager.run({
    graph: { hi: "after_hi", lo: "after_lo", nested: [], nested_no: [], mapped: [] },
    jobs: {
      hi: { fn: "tag", when: { path: "page.score", op: "gt", value: 3 } },
      lo: { fn: "tag", when: { path: "page.score", op: "lt", value: 3 } },
      after_hi: "tag",
      after_lo: "tag",
      nested: {
        fn: "tag",
        when: {
          all: [
            {
              any: [{ path: "page.kind", op: "in", value: ["blog", "docs"] }, {
                path: "x",
                op: "exists",
              }],
            },
            { not: { path: "page.draft", op: "eq", value: true } },
          ],
        },
      },
      nested_no: {
        fn: "tag",
        when: {
          all: [{ path: "page.kind", op: "eq", value: "docs" }, {
            not: { path: "page.score", op: "exists" },
          }],
        },
      },
      // A `when` is checked before a map starts.
      mapped: { fn: "map_item", map: "list", when: { path: "page.score", op: "eq", value: 0 } },
    },
    data: { page: { score: 5, kind: "docs", draft: false }, list: [1, 2] },
  }, WAIT);
  assertEquals(result.status, "succeeded", JSON.stringify(result.error));
  const status = Object.fromEntries(result.jobs.map((job) => [job.jobId, job.status]));
  assertEquals(status, {
    hi: "succeeded",
    lo: "skipped",
    after_hi: "succeeded",
    after_lo: "succeeded",
    nested: "succeeded",
    nested_no: "skipped",
    mapped: "skipped",
  });
  // A skipped job has no output: its child sees the document without it.
  assert(Array.isArray(result.document.after_lo) && !("lo" in result.document));
  assert(!("mapped" in result.document) && !("nested_no" in result.document));
  assert(Array.isArray(result.document.nested) && Array.isArray(result.document.hi));
});

async function untilWaiting(cluster: Cluster, id: string, jobId: string) {
  const deadline = Date.now() + 30_000;
  while (true) {
    const record = await (await fetch(`${cluster.http}/pipelines/${id}`)).json() as {
      jobs: Array<{ jobId: string; status: string }>;
    };
    if (record.jobs.find((job) => job.jobId === jobId)?.status === "waiting") return;
    if (Date.now() > deadline) throw new Error(`${jobId} never waited\n${cluster.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function signal(cluster: Cluster, id: string, name: string, body: unknown): Promise<Response> {
  return fetch(`${cluster.http}/pipelines/${id}/signals/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function statusOf(response: Promise<Response>): Promise<[number, string | undefined]> {
  const answer = await response;
  const body = await answer.json() as { name?: string };
  return [answer.status, body.name];
}

Deno.test("wait: a signal resumes a waiting job across a Router restart; 409 when none waits, 404 for no pipeline", async () => {
  await using cluster = await Cluster.start({ workers: 1, waitFor: ["tag"] });
  const id = await cluster.manager.start({
    graph: { approve: "after" },
    jobs: { approve: { wait: "approved", timeoutMs: 600_000 }, after: "tag" },
    data: { x: 1 },
  });
  await untilWaiting(cluster, id, "approve");
  // It holds no slot: a pipeline of one more job runs meanwhile on the one slot there is.
  const other = await cluster.manager.run({ graph: { tag: [] } }, WAIT);
  assertEquals(other.status, "succeeded");
  assertEquals(await statusOf(signal(cluster, id, "other", { ok: true })), [
    409,
    "JobNotWaitingError",
  ]);
  cluster.router.kill("SIGKILL");
  await cluster.router.status;
  cluster.restartRouter();
  await cluster.waitForFunctions(["tag"]);
  await untilWaiting(cluster, id, "approve");
  const answer = await signal(cluster, id, "approved", { ok: true, by: "ann" });
  assertEquals(answer.status, 200);
  assertEquals(await answer.json(), { pipelineId: id, signal: "approved", jobIds: ["approve"] });
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "succeeded", cluster.logs());
  assertEquals([result.document.ok, result.document.by], [true, "ann"]);
  assertEquals(result.document.after, ["by", "ok", "x"]);
  assertEquals(await statusOf(signal(cluster, id, "approved", {})), [409, "JobNotWaitingError"]);
  assertEquals(await statusOf(signal(cluster, "nope", "approved", {})), [
    404,
    "PipelineNotFoundError",
  ]);
});

Deno.test("wait: the client's signal resumes a job; a wait past its timeoutMs fails with SignalTimeoutError", async () => {
  await using cluster = await Cluster.start({ waitFor: ["tag"] });
  const id = await cluster.manager.start({
    graph: { gate: "after" },
    jobs: { gate: { wait: "go" }, after: "tag" },
  });
  await untilWaiting(cluster, id, "gate");
  assertEquals(await cluster.manager.signal(id, "go", { go: 1 }), ["gate"]);
  assertEquals((await cluster.manager.wait(id, WAIT)).document.go, 1);
  const refused = await cluster.manager.signal(id, "go").catch((error) => error);
  assert(refused instanceof RemoteError && refused.name === "JobNotWaitingError", String(refused));
  const late = await cluster.manager.run({
    graph: { gate: "after" },
    jobs: { gate: { wait: "go", timeoutMs: 300 }, after: "tag" },
  }, WAIT);
  assertEquals(late.status, "failed");
  assertEquals(late.jobs[0]?.error?.name, "SignalTimeoutError");
  assertEquals(
    late.error?.message,
    `Job "gate" failed: Job "gate" got no signal "go" within 300 ms`,
  );
  assertEquals(late.jobs[1]?.status, "skipped");
});

Deno.test("a signal that is no JSON object, too deep, or of a bad name is refused; a cancel ends a wait", async () => {
  await using cluster = await Cluster.start({ waitFor: ["tag"] });
  const id = await cluster.manager.start({ graph: { gate: [] }, jobs: { gate: { wait: "go" } } });
  await untilWaiting(cluster, id, "gate");
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = { d: deep };
  assertEquals(await statusOf(signal(cluster, id, "go", [1])), [400, "InvalidSignalError"]);
  assertEquals(await statusOf(signal(cluster, id, "go", deep)), [400, "InvalidSignalError"]);
  const badName = await signal(cluster, id, "no%20spaces", {});
  await badName.body?.cancel();
  assertEquals(badName.status, 400);
  const malformed = await fetch(`${cluster.http}/pipelines/${id}/signals/go`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{",
  });
  await malformed.body?.cancel();
  assertEquals(malformed.status, 400);
  // Still waiting after all that: a cancel ends it.
  await cluster.manager.cancel(id);
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals([result.status, result.jobs[0]?.status], ["cancelled", "cancelled"]);
});

Deno.test("invalid job options are refused with every problem listed, over HTTP and ZeroMQ", async () => {
  await using cluster = await Cluster.start({ waitFor: ["tag", "map_item"] });
  const spec = {
    graph: { a: "b", b: "c", c: [] },
    jobs: {
      a: { fn: "map_item", map: 3, mapConcurrency: -1 },
      b: { wait: "", timeoutMs: "soon" },
      c: { fn: "tag", when: { all: [{ path: "x", op: "eq" }, { nope: 1 }] } },
    },
  };
  const expected = [
    `Job "a"'s "map" must be a document key of 1 to 200 characters, got 3`,
    `Job "a"'s "mapConcurrency" must be a whole number from 1 to 10000`,
    `Job "b"'s "wait" must be a signal name of 1 to 100 letters, digits or "_.:-", got ""`,
    `Job "b"'s "timeoutMs" must be a whole number of ms from 1 to 2592000000`,
    `Job "c"'s "when".all[0] tests "eq" and needs a value`,
    `Job "c"'s "when".all[1] has an unknown field "nope"`,
    `Job "c"'s "when".all[1].path must be a dotted path of non-empty keys of at most 200 characters`,
    `Job "c"'s "when".all[1].op must be one of "eq", "ne", "gt", "gte", "lt", "lte", "in", "exists"`,
  ];
  const response = await fetch(`${cluster.http}/pipelines`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(spec),
  });
  assertEquals(response.status, 400);
  assertEquals((await response.json()).problems, expected);
  // A spec the types would refuse, as any peer may send it.
  const hostile: PipelineSpec = JSON.parse(JSON.stringify(spec));
  const refused = await cluster.manager.start(hostile).catch((error) => error);
  assert(refused instanceof PipelineValidationError, String(refused));
  assertEquals(refused.problems, expected);
});
