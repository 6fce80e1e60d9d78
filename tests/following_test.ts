/**
 * A broker runs the job a `job-run` says follows it (`then`) by itself, the moment
 * that job succeeds, and says so in `job-done.followed`. Spoken to a real broker
 * by a plain ROUTER socket playing the Router, as any implementation of the
 * protocol would.
 */
import { assertEquals } from "./_assert.ts";
import { Cluster, Daemon } from "./_cluster.ts";
import { delay, withContext, withTimeout } from "./_helpers.ts";
import { DAEMON_FLAGS } from "../deno_flags.ts";
import { PROTOCOL } from "../core/protocol/mod.ts";
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
      ...DAEMON_FLAGS.broker,
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
      /** The peer that takes jobs: the broker's worker host, which joins as a broker of one slot. */
      let peer: Uint8Array | undefined;
      const queued: Message[] = [];
      const deadline = Date.now() + 30_000;
      /** Reads one ZeroMQ message; answers hellos (the broker's and its host's). */
      const pump = async () => {
        const left = Math.max(1, deadline - Date.now());
        const [from, , ...bodies] = await withTimeout(router.receive(), left, broker.output);
        for (const json of bodies) {
          const message = JSON.parse(decoder.decode(json)) as Message;
          if (message.type !== "broker-hello") {
            queued.push(message);
            continue;
          }
          const reply = {
            type: "reply",
            id: message.id,
            ok: true,
            result: { heartbeatMs: 10_000 },
          };
          await router.send([from!, tag, encoder.encode(JSON.stringify(reply))]);
          if (Number((message.broker as Message).slots) > 0) peer = from;
        }
      };
      /** The next message from the peers other than a heartbeat (batches are split). */
      const next = async (): Promise<Message> => {
        while (true) {
          const message = queued.shift();
          if (!message) await pump();
          else if (message.type !== "broker-status" && message.type !== "broker-functions") {
            return message;
          }
        }
      };
      const send = (event: Message) =>
        router.send([peer!, tag, encoder.encode(JSON.stringify(event))]);
      while (!peer) await pump();
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

/**
 * A cluster without brokers and a plain DEALER that joins its Router as one, for the
 * test to play the broker; both stopped at the end.
 */
async function withFakeBroker(
  body: (
    cluster: Cluster,
    send: (message: Message) => Promise<void>,
    next: (type: string) => Promise<Message>,
    drain: () => Promise<Message[]>,
  ) => Promise<void>,
): Promise<void> {
  await using cluster = await Cluster.start({ brokers: 0, waitFor: [] });
  await withContext(async (context) => {
    const peer = context.socket("dealer", { linger: 0, routingId: "fake-broker" });
    peer.connect(cluster.api);
    const send = (message: Message) => peer.send([tag, encoder.encode(JSON.stringify(message))]);
    const seen: Message[] = [];
    const receive = async () => {
      const [, json] = await withTimeout(peer.receive(), 30_000, cluster.logs());
      seen.push(JSON.parse(decoder.decode(json)) as Message);
    };
    /** The first message of `type` not taken yet. */
    const next = async (type: string): Promise<Message> => {
      while (true) {
        const at = seen.findIndex((message) => message.type === type);
        if (at >= 0) return seen.splice(at, 1)[0]!;
        await receive();
      }
    };
    /** Every message not taken yet, up to the answer to a request sent now. */
    const drain = async (): Promise<Message[]> => {
      await send({ type: "list-functions", id: "drain" });
      await next("reply");
      return seen.splice(0);
    };
    const functions = ["ok", "throws"].map((name) => ({ name, config: {} }));
    await send({
      type: "broker-hello",
      id: "hello",
      broker: { id: "fake-broker", host: "test", pid: 1, slots: 2, prefetch: 0 },
      functions,
    });
    assertEquals((await next("reply")).ok, true);
    await body(cluster, send, next, drain);
  });
}

const doneEvent = (run: Message, output: Message, followed?: Message) => ({
  type: "job-done",
  pipelineId: run.pipelineId,
  jobId: run.jobId,
  attempt: run.attempt,
  outcome: { ok: true, output, durationMs: 1 },
  ...(followed ? { followed } : {}),
});

Deno.test("the Router lets a broker follow a chain's jobs, counts them as running there, and sends them no job-run", async () => {
  await withFakeBroker(async (cluster, send, next, drain) => {
    const id = await cluster.manager.start({
      graph: { a: "b", b: "c" },
      jobs: { a: "ok", b: "ok", c: "ok" },
      data: { n: 1 },
    });
    const a = await next("job-run");
    assertEquals([a.jobId, a.then], ["a", {
      jobId: "b",
      fn: "ok",
      attempt: 1,
      then: { jobId: "c", fn: "ok", attempt: 1 },
    }]);
    await send(doneEvent(a, { n: 2 }, { jobId: "b", attempt: 1 }));
    // The report and the status request travel on different sockets: wait for the first.
    let running = await cluster.manager.status(id);
    for (const deadline = Date.now() + 10_000; running.jobs[0]?.status === "running";) {
      if (Date.now() > deadline) break;
      await delay(5);
      running = await cluster.manager.status(id);
    }
    assertEquals(running.jobs.map((job) => [job.jobId, job.status]), [
      ["a", "succeeded"],
      ["b", "running"],
      ["c", "pending"],
    ]);
    await send(doneEvent({ ...a, jobId: "b" }, { n: 3 }, { jobId: "c", attempt: 1 }));
    await send(doneEvent({ ...a, jobId: "c" }, { n: 4 }));
    const result = await cluster.manager.wait(id, { timeoutMs: 30_000 });
    assertEquals([result.status, result.document.n], ["succeeded", 4]);
    assertEquals(result.jobs.map((job) => [job.attempts, job.broker]), [
      [1, "fake-broker"],
      [1, "fake-broker"],
      [1, "fake-broker"],
    ]);
    assertEquals((await drain()).filter((message) => message.type === "job-run"), []);
  });
});

Deno.test("the Router stops a follower it cannot take, and the followers of a pipeline whose job failed for good", async () => {
  await withFakeBroker(async (cluster, send, next) => {
    // Cancelled while its first job ran: the follower reported with its success is stopped.
    const chain = await cluster.manager.start({
      graph: { a: "b" },
      jobs: { a: "ok", b: "ok" },
      data: { n: 1 },
    });
    const a = await next("job-run");
    await cluster.manager.cancel(chain);
    assertEquals((await next("job-cancel")).jobId, "a");
    await send(doneEvent(a, { n: 2 }, { jobId: "b", attempt: 1 }));
    const refused = await next("job-cancel");
    assertEquals([refused.jobId, refused.attempt], ["b", 1]);
    // A job fails for good while another runs: that one's follower is called off at once.
    const dag = await cluster.manager.start({
      graph: { a: "b", x: [] },
      jobs: { a: "ok", b: "ok", x: "throws" },
      data: { n: 1 },
    });
    const runs = [await next("job-run"), await next("job-run")];
    const first = runs.find((run) => run.jobId === "a")!;
    const failing = runs.find((run) => run.jobId === "x")!;
    assertEquals((first.then as Message).jobId, "b");
    await send({
      ...doneEvent(failing, {}),
      outcome: {
        ok: false,
        error: { name: "RangeError", message: "no", retryable: false },
        durationMs: 1,
      },
    });
    const calledOff = await next("job-cancel");
    assertEquals([calledOff.jobId, calledOff.attempt], ["b", 1]);
    await send(doneEvent(first, { n: 2 }));
    const result = await cluster.manager.wait(dag, { timeoutMs: 30_000 });
    assertEquals(result.status, "failed");
    assertEquals(result.jobs.map((job) => [job.jobId, job.status, job.attempts]), [
      ["a", "succeeded", 1],
      ["b", "skipped", 0],
      ["x", "failed", 1],
    ]);
  });
});

Deno.test("a broker counted as gone that reports a job it followed is told to stop the follower", async () => {
  await withFakeBroker(async (cluster, send, next) => {
    await cluster.manager.start({ graph: { a: "b" }, jobs: { a: "ok", b: "ok" }, data: { n: 1 } });
    const a = await next("job-run");
    await send({ type: "goodbye" }); // Its jobs go back in line, for another broker.
    await send(doneEvent(a, { n: 2 }, { jobId: "b", attempt: 1 }));
    await next("hello-again");
    const stop = await next("job-cancel");
    assertEquals([stop.jobId, stop.attempt], ["b", 1]);
  });
});
