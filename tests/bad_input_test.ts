/**
 * Bad input never kills a daemon: malformed frames get a clear error where the
 * sender can be answered, and the Router goes on serving.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { Context } from "../core/zmq/mod.ts";
import { PROTOCOL } from "../core/protocol/mod.ts";

const WAIT = { timeoutMs: 30_000 };
const text = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

Deno.test("malformed frames and HTTP bodies get clear errors and the Router keeps serving", async () => {
  await using cluster = await Cluster.start();
  const context = new Context();
  try {
    const peer = context.socket("dealer", { linger: 0 });
    peer.connect(cluster.api);
    const cases: Array<[string, Uint8Array[], string]> = [
      ["one frame", [new TextEncoder().encode("hello")], "Expected 2 frames"],
      [
        "wrong tag",
        [new TextEncoder().encode("http/1.1"), text({ type: "status" })],
        "Unknown protocol",
      ],
      [
        "bad JSON",
        [new TextEncoder().encode(PROTOCOL), new TextEncoder().encode("{nope")],
        "Malformed JSON",
      ],
      ["not UTF-8", [new TextEncoder().encode(PROTOCOL), new Uint8Array([0xff, 0xfe])], "UTF-8"],
      ["array", [new TextEncoder().encode(PROTOCOL), text([1, 2])], "JSON object"],
      ["no type", [new TextEncoder().encode(PROTOCOL), text({ id: "x" })], 'no string "type"'],
      [
        "unknown type",
        [new TextEncoder().encode(PROTOCOL), text({ type: "explode", id: "y" })],
        "Unknown message type",
      ],
      [
        "missing field",
        [new TextEncoder().encode(PROTOCOL), text({ type: "status", id: "z" })],
        '"pipelineId"',
      ],
      [
        "no id",
        [new TextEncoder().encode(PROTOCOL), text({ type: "status", pipelineId: "p" })],
        'no string "id"',
      ],
      [
        "malformed plan",
        [
          new TextEncoder().encode(PROTOCOL),
          text({
            type: "job-request",
            pipelineId: "p",
            jobId: "a",
            fn: "ok",
            input: {},
            plan: { run: [{ jobId: 7 }] },
          }),
        ],
        'invalid "plan"',
      ],
      [
        "malformed followed",
        [
          new TextEncoder().encode(PROTOCOL),
          text({
            type: "job-done",
            pipelineId: "p",
            jobId: "a",
            attempt: 1,
            outcome: { ok: true, output: {}, durationMs: 1 },
            followed: { jobId: "b" },
          }),
        ],
        'invalid "followed"',
      ],
      [
        "event from a stranger",
        [new TextEncoder().encode(PROTOCOL), text({ type: "goodbye" })],
        "",
      ],
    ];
    for (const [name, frames, expected] of cases) {
      await peer.send(frames);
      if (name === "event from a stranger") continue; // No reply owed.
      const [, body] = await peer.receive();
      const message = JSON.parse(new TextDecoder().decode(body));
      const error = message.error;
      assert(error, `${name}: ${JSON.stringify(message)}`);
      assertEquals(error.name, "ProtocolError", name);
      assert(String(error.message).includes(expected), `${name}: ${error.message}`);
      // The Router's own stack (its paths and code) is nothing a peer is told.
      assertEquals(error.stack, undefined, name);
    }
    // A flood of garbage, then real work still runs.
    for (let i = 0; i < 10_000; i++) {
      await peer.send([crypto.getRandomValues(new Uint8Array(i % 64))]);
    }
    // 1,000 malformed HTTP bodies of every kind.
    const bodies = [
      "{",
      "[]",
      "null",
      '{"graph": 5}',
      '{"graph": {"a": ["a"]}}',
      "\u0000\u0001",
      '{"graph": {"x": []}, "data": "no"}',
    ];
    for (let i = 0; i < 1000; i++) {
      const response = await fetch(`${cluster.http}/pipelines`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: i % 50 === 0
          ? crypto.getRandomValues(new Uint8Array(64))
          : bodies[i % bodies.length]!,
      });
      assertEquals(response.status, 400, `body ${i}`);
      await response.body?.cancel();
    }
    const id = await cluster.manager.start({ graph: { ok: [] }, data: { n: 1 } });
    const result = await cluster.manager.wait(id, WAIT);
    assertEquals(result.status, "succeeded");
    assertEquals(result.document.n, 2);
  } finally {
    await context.close();
  }
});

Deno.test("cancelling a running pipeline stops its job and marks the rest cancelled", async () => {
  await using cluster = await Cluster.start({ waitFor: ["slow", "ok"] });
  const id = await cluster.manager.start({ graph: { slow: ["ok"] }, data: { ms: 20_000 } });
  const deadline = Date.now() + 10_000;
  while ((await cluster.manager.status(id)).jobs[0]?.status !== "running") {
    assert(Date.now() < deadline, "the slow job never started");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await cluster.manager.cancel(id);
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "cancelled");
  assertEquals(result.jobs.map((j) => j.status), ["cancelled", "cancelled"]);
  const again = await cluster.manager.cancel(id).catch((e) => e);
  assertEquals(again.name, "PipelineEndedError");
  // The slot was freed: new work runs.
  const next = await cluster.manager.start({ graph: { ok: [] } });
  assertEquals((await cluster.manager.wait(next, WAIT)).status, "succeeded");
});
