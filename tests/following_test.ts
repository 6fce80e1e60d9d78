/**
 * A broker runs the job a `job-run` says follows it (`then`) by itself, the moment
 * that job succeeds, and says so in `job-done.followed`. Spoken to a real broker
 * by a plain ROUTER socket playing the Router, as any implementation of the
 * protocol would.
 */
import { assertEquals } from "./_assert.ts";
import { Daemon } from "./_cluster.ts";
import { withContext, withTimeout } from "./_helpers.ts";
import { DAEMON_PERMISSIONS } from "../core/daemon_permissions.ts";
import { PROTOCOL } from "../core/protocol.ts";
import type { Socket } from "../core/zmq/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const tag = encoder.encode(PROTOCOL);

type Message = Record<string, unknown>;

/** A broker joined to a ROUTER socket of the test's; both stopped at the end. */
async function withBroker(
  body: (send: (event: Message) => Promise<void>, next: () => Promise<Message>) => Promise<void>,
): Promise<void> {
  await withContext(async (context) => {
    const router: Socket = context.socket("router", { linger: 0 });
    const endpoint = router.bind("tcp://127.0.0.1:0");
    const broker = new Daemon("broker", [
      "run",
      ...DAEMON_PERMISSIONS.broker,
      "broker/main.ts",
      "--router",
      endpoint,
      "--functions",
      "tests/fixtures/functions",
      "--workers",
      "1",
      "--heap-mb",
      "64",
    ]);
    try {
      let peer: Uint8Array | undefined;
      /** The next message from the broker other than a heartbeat. */
      const next = async (): Promise<Message> => {
        while (true) {
          const [from, , json] = await withTimeout(router.receive(), 30_000, broker.output);
          peer = from;
          const message = JSON.parse(decoder.decode(json)) as Message;
          if (message.type !== "broker-status") return message;
        }
      };
      const send = (event: Message) =>
        router.send([peer!, tag, encoder.encode(JSON.stringify(event))]);
      const hello = await next();
      assertEquals(hello.type, "broker-hello");
      await send({ type: "reply", id: hello.id, ok: true, result: { heartbeatMs: 10_000 } });
      await body(send, next);
    } finally {
      await broker.stop();
    }
  });
}

/** The `job-done` events of the next `count` messages, as `[jobId, ok, followed, output]`. */
async function done(next: () => Promise<Message>, count: number) {
  const seen = [];
  for (let i = 0; i < count; i++) {
    const message = await next();
    assertEquals(message.type, "job-done");
    const outcome = message.outcome as { ok: boolean; output?: Message; error?: Message };
    seen.push([message.jobId, outcome.ok, message.followed, outcome.output ?? outcome.error?.name]);
  }
  return seen;
}

const run = (jobId: string, fn: string, input: Message, then?: Message) => ({
  type: "job-run",
  pipelineId: "p",
  jobId,
  fn,
  attempt: 1,
  input,
  ...(then ? { then } : {}),
});

Deno.test("a broker starts a job's follower itself when the job succeeds, says so, and reports both in order", async () => {
  await withBroker(async (send, next) => {
    await send(run("a", "ok", { n: 1, keep: "me" }, {
      jobId: "b",
      fn: "tag_n",
      attempt: 1,
      then: { jobId: "c", fn: "ok", attempt: 2 },
    }));
    assertEquals(await done(next, 3), [
      ["a", true, { jobId: "b", attempt: 1 }, { n: 2, keep: "me" }],
      ["b", true, { jobId: "c", attempt: 2 }, { b: ["n"] }],
      ["c", true, undefined, { n: 3, keep: "me", b: ["n"] }],
    ]);
  });
});

Deno.test("a follower never starts after a failure, nor once it is cancelled, and nothing is said of it", async () => {
  await withBroker(async (send, next) => {
    await send(run("x", "throws", {}, { jobId: "y", fn: "ok", attempt: 1 }));
    await send(run("s", "slow", { ms: 300 }, { jobId: "t", fn: "ok", attempt: 1 }));
    await send({ type: "job-cancel", pipelineId: "p", jobId: "t" });
    await send(run("z", "ok", { n: 0 }));
    // The one slot runs them in order: a report of y or t would come before z's.
    const [x, s, z] = await done(next, 3);
    assertEquals(x, ["x", false, undefined, "RangeError"]);
    assertEquals(s!.slice(0, 3), ["s", true, undefined]);
    assertEquals((s![3] as Message).waited, 300);
    assertEquals(z, ["z", true, undefined, { n: 1 }]);
  });
});
