/**
 * Hostile input against a real Router: oversized ZeroMQ frames, `data` nested far
 * too deep, and deadlines past what a timer can hold. Each must be refused (or held)
 * with the Router and hosts still serving.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { Context } from "../core/zmq/mod.ts";
import { PROTOCOL } from "../core/protocol/mod.ts";

const WAIT = { timeoutMs: 30_000 };
const encoder = new TextEncoder();
const MB = 1024 * 1024;

/** `VmRSS` and `VmHWM` (peak) of a process, in MiB. */
async function memory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb("VmRSS") / 1024), peak: Math.round(kb("VmHWM") / 1024) };
}

/** A JSON body of `size` bytes: `head`, then a long string, then `tail`. */
function hugeBody(head: string, tail: string, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  const start = encoder.encode(`${head}"`);
  const end = encoder.encode(`"${tail}`);
  bytes.fill(0x78); // "x"
  bytes.set(start, 0);
  bytes.set(end, size - end.length);
  return bytes;
}

/** 100,000 nested arrays: 200 KB of JSON. */
const DEEP = "[".repeat(100_000) + "]".repeat(100_000);

Deno.test("a 300 MB submit and a 300 MB job-done over ZeroMQ leave the Router up and small", async () => {
  await using cluster = await Cluster.start({ brokers: 0, pipeliners: 0, waitFor: [] });
  const pid = cluster.router.pid;
  const before = await memory(pid);
  const context = new Context();
  try {
    const submit = hugeBody(
      '{"type":"submit","id":"big","pipeline":{"graph":{"ok":[]},"data":{"s":',
      "}}}",
      300 * MB,
    );
    const done = hugeBody(
      '{"type":"job-done","pipelineId":"p","jobId":"a","attempt":1,' +
        '"outcome":{"ok":false,"durationMs":1,"error":{"name":"Error","retryable":false,"message":',
      "}}}",
      300 * MB,
    );
    for (const body of [submit, done]) {
      const peer = context.socket("dealer", { linger: 0, maxMessageSize: -1 });
      peer.connect(cluster.api);
      await peer.send([encoder.encode(PROTOCOL), body]);
      // Give the Router time to take (or refuse) the whole frame.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      peer.close();
    }
    // The Router still answers, and did not hold the frames.
    const functions = await cluster.manager.functions();
    assert(Array.isArray(functions));
    const after = await memory(pid);
    // deno-lint-ignore no-console -- the figures for the security notes
    console.log(
      `Router RSS before ${before.rss} MiB, after ${after.rss} MiB, peak ${after.peak} MiB`,
    );
    assert(after.peak - before.rss < 200, `the Router grew to ${after.peak} MiB`);
    const state = await Promise.race([cluster.router.status.then(() => "exited"), "up"]);
    assertEquals(state, "up");
  } finally {
    await context.close();
  }
  assert(!cluster.router.output.includes("out of memory"), cluster.router.output);
});

Deno.test("data of 100,000 nested arrays is refused over ZeroMQ and HTTP, and hosts live", async () => {
  await using cluster = await Cluster.start();
  const spec = `{"graph":{"ok":[]},"data":{"deep":${DEEP}}}`;
  // HTTP: a 400 naming the depth.
  const response = await fetch(`${cluster.http}/pipelines`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: spec,
  });
  const body = await response.json();
  assertEquals(response.status, 400, JSON.stringify(body).slice(0, 400));
  assert(JSON.stringify(body).includes("deep"), JSON.stringify(body).slice(0, 400));
  // ZeroMQ: a PipelineValidationError naming the depth.
  const error = await cluster.manager.start(JSON.parse(spec)).catch((e) => e);
  assertEquals(error?.name, "PipelineValidationError", String(error).slice(0, 400));
  assert(String(error.problems).includes("deep"), String(error.problems).slice(0, 400));
  // Nothing was stored or run: a normal pipeline still runs on the same hosts.
  const id = await cluster.manager.start({ graph: { ok: [] }, data: { n: 1 } });
  assertEquals((await cluster.manager.wait(id, WAIT)).status, "succeeded");
  for (const broker of cluster.brokers) {
    assert(!/Maximum call stack/.test(broker.output), broker.output.slice(-2000));
  }
});

Deno.test("a pipeline with deadlineMs 3e9 (past what a timer holds) is still running after 1 s", async () => {
  await using cluster = await Cluster.start({ waitFor: ["slow"] });
  const id = await cluster.manager.start({
    graph: { slow: [] },
    data: { ms: 20_000 },
    deadlineMs: 3e9,
  });
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const record = await cluster.manager.status(id);
  assertEquals(record.status, "running", JSON.stringify(record).slice(0, 600));
  // A wait with a timeout past 2^31 ms does not end at once either.
  const waited = cluster.manager.wait(id, { timeoutMs: 3e9 }).then(() => "ended", (e) => e.name);
  const early = await Promise.race([
    waited,
    new Promise((resolve) => setTimeout(() => resolve("still waiting"), 500)),
  ]);
  assertEquals(early, "still waiting");
  await cluster.manager.cancel(id);
  assertEquals(await waited, "ended");
});
