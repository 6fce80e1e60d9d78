/**
 * The ZeroMQ transport under back-pressure and at shutdown: no message lost under
 * tiny high-water marks, pending operations end when sockets or the context close,
 * and a process that closes its context exits by itself.
 */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { delay, text, withContext, withTimeout } from "./_helpers.ts";
import { Context, type Socket, SocketClosedError } from "../core/zmq/mod.ts";

const LOCAL = "tcp://127.0.0.1:0";
const ZMQ_EVENTS = 15;
const ZMQ_POLLIN = 1;
const ZMQ_POLLOUT = 2;

Deno.test("100,000 messages DEALER -> ROUTER echo -> DEALER with HWM 100 arrive all, in order", () =>
  withContext(async (ctx) => {
    const hwm = { sendHwm: 100, receiveHwm: 100 };
    const router = ctx.socket("router", hwm);
    const dealer = ctx.socket("dealer", hwm);
    dealer.connect(router.bind(LOCAL));
    const total = 100_000;

    const echo = (async () => {
      let echoed = 0;
      for await (const message of router) {
        await router.send(message);
        if (++echoed === total) return echoed;
      }
      return echoed;
    })();
    // Sends are not awaited one by one: tens of thousands wait under back-pressure at once.
    const sends: Promise<void>[] = [];
    const sending = (async () => {
      for (let i = 0; i < total; i++) {
        sends.push(dealer.send(["seq", String(i)]));
        if (i % 10_000 === 9_999) await Promise.resolve(); // Interleave with the receiver.
      }
      await Promise.all(sends);
    })();

    const receiving = (async () => {
      for (let i = 0; i < total; i++) {
        const frames = text(await dealer.receive());
        if (frames[0] !== "seq" || frames[1] !== String(i)) {
          throw new Error(`Message ${i} arrived as ${JSON.stringify(frames)}`);
        }
      }
    })();
    const what = "100,000 echoed messages (a lost message hangs here)";
    await withTimeout(Promise.all([sending, receiving]), 120_000, what);
    assertEquals(await withTimeout(echo, 10_000, "the echo loop"), total);
    assertEquals(sends.length, total);
    assertEquals(dealer.tryReceive(), undefined);
  }));

/** A PUSH connected to a PULL, one message through already. */
async function connectedPair(ctx: Context): Promise<{ pull: Socket; push: Socket }> {
  const pull = ctx.socket("pull");
  const push = ctx.socket("push");
  push.connect(pull.bind(LOCAL));
  await push.send("warm-up");
  assertEquals(text(await withTimeout(pull.receive(), 10_000, "warm-up")), ["warm-up"]);
  return { pull, push };
}

/**
 * Holds the thread (no await, so the poll loop cannot run) until a message waits in
 * libzmq; each read of ZMQ_EVENTS may take the signal the helper thread waits for.
 */
function spinUntilReadable(socket: Socket): void {
  const until = Date.now() + 5_000;
  while ((socket.getIntOption(ZMQ_EVENTS) & ZMQ_POLLIN) === 0 && Date.now() < until) {
    // Spin.
  }
}

Deno.test("concurrent receive() calls get messages in the order they were called", () =>
  withContext(async (ctx) => {
    const { pull, push } = await connectedPair(ctx);
    const first = pull.receive(); // Nothing there yet: this one waits.
    const sent = push.send("1");
    spinUntilReadable(pull);
    assertEquals(pull.tryReceive(), undefined, "tryReceive() took a message owed to receive()");
    const second = pull.receive();
    await sent;
    await push.send("2");
    const got = await withTimeout(Promise.all([first, second]), 10_000, "both messages");
    assertEquals(got.map((frames) => text(frames)[0]), ["1", "2"]);
  }));

Deno.test("a waiting receive() gets its message though JS touched the socket first", () =>
  withContext(async (ctx) => {
    // The helper thread waits on the socket's descriptor; reading ZMQ_EVENTS (as a send
    // may, too) takes the signal it waits for. The receive must be served all the same.
    const { pull, push } = await connectedPair(ctx);
    for (let round = 0; round < 20; round++) {
      const waiting = pull.receive();
      await delay(5); // The loop hands the wait to the helper thread.
      await push.send(String(round));
      spinUntilReadable(pull);
      const got = await withTimeout(waiting, 5_000, `message ${round} (a missed signal hangs)`);
      assertEquals(text(got), [String(round)]);
    }
  }));

Deno.test("a waiting send() goes out though JS touched the socket when its peer made room", () =>
  withContext(async (ctx) => {
    // inproc has no kernel buffer: with high-water marks of 1 a third message waits.
    const pull = ctx.socket("pull", { receiveHwm: 1 });
    const push = ctx.socket("push", { sendHwm: 1 });
    pull.bind("inproc://touched-send");
    push.connect("inproc://touched-send");
    for (let round = 0; round < 10; round++) {
      const sends = Array.from({ length: 4 }, (_, n) => push.send(`${round}.${n}`));
      await delay(5); // The loop hands the wait for room to the helper thread.
      const got: string[] = [];
      for (let frames = pull.tryReceive(); frames; frames = pull.tryReceive()) {
        got.push(text(frames)[0]!);
      }
      // The room just made signals the PUSH's descriptor; reading ZMQ_EVENTS takes that.
      const until = Date.now() + 5_000;
      while ((push.getIntOption(ZMQ_EVENTS) & ZMQ_POLLOUT) === 0 && Date.now() < until) {
        // Spin.
      }
      await withTimeout(Promise.all(sends), 5_000, `round ${round} (a missed signal hangs)`);
      while (got.length < 4) got.push(text(await withTimeout(pull.receive(), 5_000, "rest"))[0]!);
      assertEquals(got, [0, 1, 2, 3].map((n) => `${round}.${n}`));
    }
  }));

Deno.test("a pending receive() rejects with SocketClosedError when its socket closes", () =>
  withContext(async (ctx) => {
    // Closed while the poll loop waits on it on the helper thread.
    const polled = ctx.socket("pull");
    polled.bind(LOCAL);
    const waiting = polled.receive();
    await delay(50);
    polled.close();
    await withTimeout(assertRejects(() => waiting, SocketClosedError), 5_000, "the rejection");
    // Closed before the loop got to it.
    const fresh = ctx.socket("dealer");
    const early = fresh.receive();
    fresh.close();
    await withTimeout(assertRejects(() => early, SocketClosedError), 5_000, "the rejection");
    // Afterwards every operation is refused the same way.
    await assertRejects(() => polled.receive(), SocketClosedError);
    await assertRejects(() => polled.send("late"), SocketClosedError);
    // A `for await` loop simply ends.
    const sub = ctx.socket("sub", { subscribe: [""] });
    sub.bind(LOCAL);
    const loop = (async () => {
      let count = 0;
      for await (const _ of sub) count++;
      return count;
    })();
    await delay(50);
    sub.close();
    assertEquals(await withTimeout(loop, 5_000, "the for-await loop to end"), 0);
    // The context goes on serving its other sockets.
    const rep = ctx.socket("rep");
    const req = ctx.socket("req");
    req.connect(rep.bind(LOCAL));
    await req.send("still alive");
    assertEquals(text(await withTimeout(rep.receive(), 5_000, "the request")), ["still alive"]);
  }));

Deno.test("pending receives and sends reject with SocketClosedError when the context closes", async () => {
  const ctx = new Context();
  try {
    const pull = ctx.socket("pull");
    pull.bind(LOCAL);
    const sub = ctx.socket("sub", { subscribe: [""] });
    sub.connect("tcp://127.0.0.1:1"); // Nobody there: it reconnects in the background.
    // A DEALER with no peer cannot queue anything: the send waits.
    const lonely = ctx.socket("dealer", { linger: 0 });
    const pending = [pull.receive(), sub.receive(), lonely.send("to nobody")];
    const outcomes = Promise.allSettled(pending);
    await delay(50);
    await withTimeout(ctx.close(), 10_000, "the context to close");
    for (const outcome of await outcomes) {
      assert(outcome.status === "rejected", "A pending operation was not rejected");
      assert(outcome.reason instanceof SocketClosedError, `Got ${outcome.reason}`);
    }
    assertEquals(ctx.size, 0);
    let error: unknown;
    try {
      ctx.socket("pair");
    } catch (e) {
      error = e;
    }
    assert(error instanceof SocketClosedError, `ctx.socket() after close threw ${error}`);
  } finally {
    await ctx.close(); // Safe to call again.
  }
});

/** Runs the exit fixture in `mode`; returns whether it exited by itself, with its output. */
async function runExitFixture(mode: string) {
  const script = new URL("./fixtures/transport_exit.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, mode],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let killed = false;
  // Not a speed limit: a script that hangs would otherwise never end.
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, 10_000);
  try {
    const output = await child.output();
    const decoder = new TextDecoder();
    return {
      killed,
      code: output.code,
      stdout: decoder.decode(output.stdout).trim(),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }
}

for (
  const [mode, what] of [
    ["exchange", "exchanges messages and closes its context"],
    ["pending-receive", "closes its context while receives are still pending"],
    ["pending-send", "closes its context while a send is still waiting for a peer"],
  ] as const
) {
  Deno.test(`a script that ${what} exits by itself`, async () => {
    const run = await runExitFixture(mode);
    assert(!run.killed, `The "${mode}" script did not exit and was killed\n${run.stderr}`);
    assertEquals(run.code, 0, run.stderr);
    assertEquals(run.stdout, "closed");
  });
}

Deno.test("a ROUTER keeps sending to other peers while one peer is full", () =>
  withContext(async (ctx) => {
    const router = ctx.socket("router", { sendHwm: 10 });
    const endpoint = router.bind("tcp://127.0.0.1:0");
    const stuck = ctx.socket("dealer", { routingId: "stuck", receiveHwm: 10 });
    const lively = ctx.socket("dealer", { routingId: "lively" });
    stuck.connect(endpoint);
    lively.connect(endpoint);
    await stuck.send("hi");
    await lively.send("hi");
    await router.receive();
    await router.receive();
    // "stuck" never reads: its messages pile up past both high-water marks.
    const piled = Array.from({ length: 1000 }, (_, i) => router.send(["stuck", String(i)]));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gotThrough = await Promise.race([
      router.send(["lively", "still here"]).then(() => lively.receive()),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 10_000))),
    ]);
    clearTimeout(timer);
    assert(gotThrough, "the message to the lively peer waited behind the stuck one");
    assertEquals(text(gotThrough), ["still here"]);
    // Reading frees the stuck lane, in order.
    for (let i = 0; i < 1000; i++) assertEquals(text(await stuck.receive()), [String(i)]);
    await Promise.all(piled);
  }));
