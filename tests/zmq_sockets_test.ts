/**
 * The ZeroMQ transport on real sockets over 127.0.0.1.
 */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { Context, curveKeyPair, loadLibzmq, SocketClosedError, ZmqError } from "../core/zmq/mod.ts";

const text = (frames: Uint8Array[]) => frames.map((f) => new TextDecoder().decode(f));

async function withContext(fn: (ctx: Context) => Promise<void>): Promise<void> {
  const ctx = new Context();
  try {
    await fn(ctx);
  } finally {
    await ctx.close();
  }
}

Deno.test("REQ/REP: a request gets its reply", () =>
  withContext(async (ctx) => {
    const rep = ctx.socket("rep");
    const req = ctx.socket("req");
    req.connect(rep.bind("tcp://127.0.0.1:0"));
    await req.send(["hello", "there"]);
    assertEquals(text(await rep.receive()), ["hello", "there"]);
    await rep.send("world");
    assertEquals(text(await req.receive()), ["world"]);
  }));

Deno.test("DEALER/ROUTER: the ROUTER sees the routing id and answers that peer", () =>
  withContext(async (ctx) => {
    const router = ctx.socket("router");
    const dealer = ctx.socket("dealer", { routingId: "dealer-1" });
    dealer.connect(router.bind("tcp://127.0.0.1:0"));
    await dealer.send(["ping"]);
    const [id, body] = await router.receive();
    assertEquals(text([id!, body!]), ["dealer-1", "ping"]);
    await router.send([id!, "pong"]);
    assertEquals(text(await dealer.receive()), ["pong"]);
  }));

Deno.test("PUB/SUB: a subscriber gets its prefix only, and nothing after unsubscribing", () =>
  withContext(async (ctx) => {
    const pub = ctx.socket("pub");
    const sub = ctx.socket("sub", { subscribe: ["news."] });
    sub.connect(pub.bind("tcp://127.0.0.1:0"));
    // Subscriptions travel asynchronously: publish until the first one arrives.
    const first = sub.receive();
    let arrived = false;
    first.then(() => (arrived = true));
    while (!arrived) {
      await pub.send(["weather.today", "rain"]);
      await pub.send(["news.today", "hello"]);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assertEquals(text(await first), ["news.today", "hello"]);
    sub.unsubscribe("news.");
    sub.subscribe("weather.");
    let frames: string[] = [];
    while (frames[0] !== "weather.today") {
      await pub.send(["weather.today", "sun"]);
      await new Promise((resolve) => setTimeout(resolve, 10));
      const got = sub.tryReceive();
      if (got) frames = text(got);
      assert(frames[0] !== "weather.today" || frames[1] === "sun");
    }
    // Drain, then check news no longer arrives.
    while (sub.tryReceive()) { /* drain */ }
    await pub.send(["news.today", "late"]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const late = sub.tryReceive();
    assert(late === undefined || text(late)[0] !== "news.today", "unsubscribed prefix arrived");
  }));

Deno.test("PUSH/PULL and PAIR deliver in both patterns", () =>
  withContext(async (ctx) => {
    const pull = ctx.socket("pull");
    const push = ctx.socket("push");
    push.connect(pull.bind("tcp://127.0.0.1:0"));
    for (let i = 0; i < 10; i++) await push.send(String(i));
    for (let i = 0; i < 10; i++) assertEquals(text(await pull.receive()), [String(i)]);
    const a = ctx.socket("pair");
    const b = ctx.socket("pair");
    b.connect(a.bind("tcp://127.0.0.1:0"));
    await a.send("to b");
    assertEquals(text(await b.receive()), ["to b"]);
    await b.send("to a");
    assertEquals(text(await a.receive()), ["to a"]);
  }));

Deno.test("multipart messages keep binary, empty and 1 MiB frames intact", () =>
  withContext(async (ctx) => {
    const router = ctx.socket("router");
    const dealer = ctx.socket("dealer");
    dealer.connect(router.bind("tcp://127.0.0.1:0"));
    const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
    const big = crypto.getRandomValues(new Uint8Array(1024 * 1024 / 16)).slice();
    const mib = new Uint8Array(1024 * 1024);
    for (let i = 0; i < 16; i++) mib.set(big, i * big.length);
    const frames = [binary, new Uint8Array(0), mib, new Uint8Array(0)];
    await dealer.send(frames);
    const [id, ...got] = await router.receive();
    assertEquals(got.length, 4);
    assertEquals(got[0], binary);
    assertEquals(got[1]!.length, 0);
    assert(got[2]!.length === mib.length && got[2]!.every((b, i) => b === mib[i]), "1 MiB frame");
    assertEquals(got[3]!.length, 0);
    await router.send([id!, ...got]);
    const back = await dealer.receive();
    assertEquals(back.map((f) => f.length), [256, 0, 1024 * 1024, 0]);
  }));

Deno.test("100,000 messages DEALER -> ROUTER -> DEALER with HWM 100: none lost, in order", () =>
  withContext(async (ctx) => {
    const hwm = { sendHwm: 100, receiveHwm: 100 };
    const router = ctx.socket("router", hwm);
    const dealer = ctx.socket("dealer", hwm);
    dealer.connect(router.bind("tcp://127.0.0.1:0"));
    const total = 100_000;
    const echo = (async () => {
      for (let i = 0; i < total; i++) await router.send(await router.receive());
    })();
    const sending = (async () => {
      // Not awaiting each send: many wait under back-pressure at once.
      const sends: Promise<void>[] = [];
      for (let i = 0; i < total; i++) sends.push(dealer.send(String(i)));
      await Promise.all(sends);
    })();
    for (let i = 0; i < total; i++) {
      const [body] = await dealer.receive();
      const n = Number(new TextDecoder().decode(body));
      if (n !== i) throw new Error(`Expected ${i}, got ${n}`);
    }
    await Promise.all([echo, sending]);
  }));

Deno.test("a pending receive rejects when its socket closes, and when the context closes", async () => {
  const ctx = new Context();
  const a = ctx.socket("pull");
  a.bind("tcp://127.0.0.1:0");
  const pending = a.receive();
  await new Promise((resolve) => setTimeout(resolve, 20)); // Let the poll start.
  a.close();
  await assertRejects(() => pending, SocketClosedError);
  await assertRejects(() => a.send("x"), SocketClosedError);
  const b = ctx.socket("sub", { subscribe: [""] });
  b.connect("tcp://127.0.0.1:1");
  const waiting = assertRejects(() => b.receive(), SocketClosedError);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await ctx.close();
  await waiting;
});

Deno.test("a ROUTER send to an unknown peer fails with EHOSTUNREACH", () =>
  withContext(async (ctx) => {
    const router = ctx.socket("router");
    router.bind("tcp://127.0.0.1:0");
    const error = await assertRejects(() => router.send(["nobody", "hello"]), ZmqError);
    assertEquals(error.code, "EHOSTUNREACH");
  }));

Deno.test("bind to a busy port fails with EADDRINUSE; a malformed endpoint with EINVAL", () =>
  withContext(async (ctx) => {
    const endpoint = ctx.socket("rep").bind("tcp://127.0.0.1:0");
    let error: unknown;
    try {
      ctx.socket("rep").bind(endpoint);
    } catch (e) {
      error = e;
    }
    assert(error instanceof ZmqError, String(error));
    assertEquals(error.code, "EADDRINUSE");
    try {
      ctx.socket("req").connect("tcp://no-port-here");
      error = undefined;
    } catch (e) {
      error = e;
    }
    assert(error instanceof ZmqError, String(error));
    assertEquals(error.code, "EINVAL");
    await Promise.resolve();
  }));

Deno.test({
  name: "CURVE: an encrypted client and server exchange messages",
  ignore: !loadLibzmq().curve,
  fn: () =>
    withContext(async (ctx) => {
      const server = curveKeyPair();
      const client = curveKeyPair();
      const rep = ctx.socket("rep", { curveServer: true, curveSecretKey: server.secretKey });
      const req = ctx.socket("req", {
        curveServerKey: server.publicKey,
        curvePublicKey: client.publicKey,
        curveSecretKey: client.secretKey,
      });
      req.connect(rep.bind("tcp://127.0.0.1:0"));
      await req.send("secret");
      assertEquals(text(await rep.receive()), ["secret"]);
      await rep.send("safe");
      assertEquals(text(await req.receive()), ["safe"]);
    }),
});

Deno.test("a script that uses sockets and closes its context exits by itself", async () => {
  for (const mode of ["exchange", "pending-receive"]) {
    const script = new URL("./fixtures/zmq_exit.ts", import.meta.url).pathname;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-ffi", "--allow-read", "--allow-env", script, mode],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, 10_000);
    const output = await child.output();
    clearTimeout(timer);
    assert(!killed, `${mode}: the script hung and was killed`);
    assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
    assertEquals(new TextDecoder().decode(output.stdout).trim(), "done");
  }
});

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
