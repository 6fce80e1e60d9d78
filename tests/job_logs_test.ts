/**
 * A job's log lines kept with its attempts in the Router's store: read back over HTTP
 * and from the client, per attempt, followed live over SSE, capped per attempt, and
 * pruned with their pipeline. A function that logs in a tight loop slows neither the
 * Router nor the jobs beside it.
 */
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { delay } from "./_helpers.ts";
import { jobOf, outputOf, run, runOne, tempDir, untilRunning, WAIT_MS } from "./_sandbox.ts";
import { JobLogClient, type JobLogLine } from "../mod.ts";

const FUNCTIONS = {
  // Fails its first attempt, after logging through ctx.log and console.
  "chatty.ts": `export const config = { retries: 1 };
export default (input, ctx) => {
  ctx.log.info("trying", { attempt: ctx.attempt, input });
  console.warn("from console on attempt", ctx.attempt);
  if (ctx.attempt === 1) throw new Error("first attempt fails");
  ctx.log.debug("done");
  return { tried: ctx.attempt };
};
`,
  // One line, a pause, another: a stream sees the second come after it opened.
  "paced.ts": `export default async (input, ctx) => {
  ctx.log.info("first");
  await new Promise((resolve) => setTimeout(resolve, Number(input.ms)));
  ctx.log.info("second");
  return { paced: true };
};
`,
  // A map's item: logs under its item's job id.
  "each.ts": `export default (input, ctx) => {
  ctx.log.info("item " + ctx.jobId);
  return {};
};
`,
  // Logs in a tight loop (no await) for input.ms.
  "noisy.ts": `export const config = { timeoutMs: 60000 };
export default (input, ctx) => {
  const until = Date.now() + Number(input.ms);
  let n = 0;
  while (Date.now() < until) ctx.log.info("noise " + n++, { n });
  return { lines: n };
};
`,
};

function lines(text: string): JobLogLine[] {
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

async function getLogs(cluster: Cluster, path: string): Promise<JobLogLine[]> {
  const response = await fetch(`${cluster.http}${path}`);
  assertEquals(response.status, 200, path);
  assertEquals(response.headers.get("content-type"), "application/x-ndjson; charset=utf-8");
  return lines(await response.text());
}

Deno.test("a job's log lines are kept with each attempt, read back over HTTP and from the client", async () => {
  await using functions = await tempDir(FUNCTIONS);
  await using cluster = await Cluster.start({
    functionsDir: functions.path,
    workers: 1,
    waitFor: ["chatty", "each"],
    routerArgs: ["--retry-base-ms", "10"],
  });
  const result = await runOne(cluster, "chatty", { x: 1 });
  assertEquals(outputOf(result), { tried: 2 });
  const path = `/pipelines/${result.id}/jobs/chatty/logs`;
  const all = await getLogs(cluster, path);
  const shape = all.map(({ attempt, level, message, fields }) => ({
    attempt,
    level,
    message,
    ...(fields ? { fields } : {}),
  }));
  assertEquals(shape, [
    { attempt: 1, level: "info", message: "trying", fields: { attempt: 1, input: { x: 1 } } },
    { attempt: 1, level: "warn", message: "from console on attempt 1" },
    { attempt: 2, level: "info", message: "trying", fields: { attempt: 2, input: { x: 1 } } },
    { attempt: 2, level: "warn", message: "from console on attempt 2" },
    { attempt: 2, level: "debug", message: "done" },
  ]);
  assert(all.every((line) => Math.abs(line.time - Date.now()) < 60_000), JSON.stringify(all));
  const second = await getLogs(cluster, `${path}?attempt=2`);
  assertEquals(second.map((line) => line.message), ["trying", "from console on attempt 2", "done"]);

  const client = new JobLogClient({ url: cluster.http });
  assertEquals(await client.read(result.id, "chatty"), all);
  assertEquals(await client.read(result.id, "chatty", { attempt: 1 }), all.slice(0, 2));
  // Unknown job, unknown pipeline, bad query.
  assertEquals((await fetch(`${cluster.http}/pipelines/${result.id}/jobs/nope/logs`)).status, 404);
  assertEquals(
    (await fetch(`${cluster.http}/pipelines/0190a000-0000-7000-8000-000000000000/jobs/x/logs`))
      .status,
    404,
  );
  // A map job's items keep their lines apart, each under its item's job id.
  const mapped = await run(cluster, {
    graph: { each: [] },
    jobs: { each: { fn: "each", map: "list" } },
    data: { list: [1, 2] },
  });
  assertEquals(mapped.status, "succeeded", JSON.stringify(mapped));
  for (const item of ["each[0]", "each[1]"]) {
    const logged = await client.read(mapped.id, item);
    assertEquals(logged.map((line) => line.message), [`item ${item}`]);
  }
  for (const query of ["attempt=0", "attempt=x", "after=-1"]) {
    const response = await fetch(`${cluster.http}${path}?${query}`);
    await response.body?.cancel();
    assertEquals(response.status, 400, query);
  }
});

Deno.test("a job's log lines stream over SSE as they come, and the stream ends with the pipeline", async () => {
  await using functions = await tempDir(FUNCTIONS);
  await using cluster = await Cluster.start({
    functionsDir: functions.path,
    workers: 1,
    waitFor: ["paced"],
  });
  const id = await cluster.manager.start({ graph: { paced: [] }, data: { ms: 1500 } });
  await untilRunning(cluster, id, "paced");
  const client = new JobLogClient({ url: cluster.http });
  const seen: Array<{ message: string; ended: boolean }> = [];
  for await (const line of client.follow(id, "paced")) {
    const { status } = await cluster.manager.status(id);
    seen.push({ message: line.message, ended: status === "succeeded" });
  }
  assertEquals(seen.map((s) => s.message), ["first", "second"]);
  assertEquals(seen[0]!.ended, false, "the first line came while the job still ran");
  assertEquals(
    (await cluster.manager.status(id)).status,
    "succeeded",
    "the stream ended at the end",
  );
  // A stream opened after the end gives every line, then ends.
  const after = [];
  for await (const line of client.follow(id, "paced")) after.push(line.message);
  assertEquals(after, ["first", "second"]);
  // The raw stream: a `log` event per line with the row's id, then `end`.
  const raw = await (await fetch(`${cluster.http}/pipelines/${id}/jobs/paced/logs/events`)).text();
  assert(/^event: log\nid: \d+\ndata: \{"attempt":1,/m.test(raw), raw);
  assert(raw.endsWith("event: end\ndata: {}\n\n"), raw);
});

Deno.test("a function logging in a tight loop slows neither the Router nor other jobs, and its lines stop at the cap", async () => {
  const cap = 200_000;
  await using functions = await tempDir(FUNCTIONS);
  await using cluster = await Cluster.start({
    functionsDir: functions.path,
    workers: 2,
    waitFor: ["noisy", "ok"],
    routerArgs: ["--max-log-chars", String(cap)],
    // Nothing waits behind the noisy job in its slot's queue, and the worker's own log
    // budget is lifted: every line it logs reaches the Router, whose cap stops them.
    brokerArgs: ["--prefetch", "0", "--max-log-chars", "1000000000"],
  });
  const others = async () => {
    const done = [];
    for (let n = 0; n < 30; n++) {
      done.push(jobOf(await runOne(cluster, "ok", { n })).status);
      const health = await fetch(`${cluster.http}/health`);
      assertEquals(health.status, 200);
      assertEquals((await health.json()).status, "ok");
    }
    return done;
  };
  const all = Array(30).fill("succeeded");
  assertEquals(await others(), all, "without the noisy job");
  const noisy = await cluster.manager.start({ graph: { noisy: [] }, data: { ms: 5000 } });
  await untilRunning(cluster, noisy, "noisy");
  // Wait until its lines flow into the Router, then run the others beside it.
  const client = new JobLogClient({ url: cluster.http });
  const deadline = Date.now() + WAIT_MS;
  while ((await client.read(noisy, "noisy")).length === 0) {
    assert(Date.now() < deadline, "the noisy job's lines never reached the Router");
    await delay(20);
  }
  assertEquals(await others(), all, "beside the noisy job");
  assertEquals(
    (await cluster.manager.status(noisy)).status,
    "running",
    "the others all ran while the noisy job logged",
  );
  const result = await cluster.manager.wait(noisy, { timeoutMs: WAIT_MS });
  const made = Number(outputOf(result).lines);
  const stored = await client.read(noisy, "noisy");
  const cuts = stored.filter((line) => line.message.startsWith("Log cut at"));
  assertEquals(cuts.length, 1, JSON.stringify(cuts));
  assert(
    new RegExp(`^Log cut at ${cap} characters: \\d+ more records`).test(cuts[0]!.message),
    cuts[0]!.message,
  );
  const kept = stored.filter((line) => !line.message.startsWith("Log cut at"));
  const chars = kept.reduce(
    (sum, l) => sum + l.message.length + JSON.stringify(l.fields).length,
    0,
  );
  assert(chars <= cap, `${chars} characters stored, over the cap of ${cap}`);
  assert(chars > cap * 0.9, `${chars} characters stored: the cap was not filled`);
  assert(kept.length < made, `${kept.length} of ${made} lines kept`);
  // The kept lines are the first ones, in order.
  kept.forEach((line, at) => assertEquals(line.message, `noise ${at}`));
});

Deno.test("--retention prunes a job's log lines with its pipeline", async () => {
  await using functions = await tempDir(FUNCTIONS);
  const dataDir = await Deno.makeTempDir({ prefix: "pipelinin-test-" });
  try {
    let id: string;
    {
      await using cluster = await Cluster.start({
        functionsDir: functions.path,
        workers: 1,
        waitFor: ["chatty"],
        dataDir,
        routerArgs: ["--retry-base-ms", "10"],
      });
      id = (await runOne(cluster, "chatty")).id;
      const kept = await run(cluster, { graph: { chatty: [] } });
      assertEquals((await getLogs(cluster, `/pipelines/${kept.id}/jobs/chatty/logs`)).length, 5);
    }
    const count = () => {
      const db = new DatabaseSync(`${dataDir}/pipelinin.db`);
      try {
        const row = db.prepare("SELECT COUNT(*) AS n FROM job_logs WHERE pipeline_id = ?").get(id);
        return Number(row?.n);
      } finally {
        db.close();
      }
    };
    assert(count() > 0, "the lines were stored");
    await delay(50);
    {
      // Started again with a retention shorter than their age: pruned at start.
      await using cluster = await Cluster.start({
        functionsDir: functions.path,
        workers: 1,
        waitFor: ["chatty"],
        dataDir,
        routerArgs: ["--retention", "10ms"],
      });
      const response = await fetch(`${cluster.http}/pipelines/${id}/jobs/chatty/logs`);
      await response.body?.cancel();
      assertEquals(response.status, 404);
    }
    assertEquals(count(), 0, "the pruned pipeline's lines are gone");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
