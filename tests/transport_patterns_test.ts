/**
 * The ZeroMQ transport's socket patterns, frames, errors and CURVE, on real TCP
 * sockets bound to 127.0.0.1 with port 0.
 */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { delay, hex, repeatUntil, text, withContext, withTimeout } from "./_helpers.ts";
import { curveKeyPair, loadLibzmq, ZmqError } from "../core/zmq/mod.ts";

const LOCAL = "tcp://127.0.0.1:0";
/** Bounds every wait on the network, so a lost message fails the test instead of hanging it. */
const WAIT_MS = 10_000;

Deno.test("bind to port 0 returns the endpoint actually bound", () =>
  withContext(async (ctx) => {
    const endpoint = ctx.socket("rep").bind(LOCAL);
    const port = Number(/^tcp:\/\/127\.0\.0\.1:(\d+)$/.exec(endpoint)?.[1]);
    assert(port > 0, `Unexpected endpoint "${endpoint}"`);
    await Promise.resolve();
  }));

Deno.test("REQ/REP: a multipart request gets its reply, several times in turn", () =>
  withContext(async (ctx) => {
    const rep = ctx.socket("rep");
    const req = ctx.socket("req");
    req.connect(rep.bind(LOCAL));
    for (let i = 0; i < 3; i++) {
      await req.send(["hello", String(i)]);
      assertEquals(text(await withTimeout(rep.receive(), WAIT_MS, "the request")), [
        "hello",
        String(i),
      ]);
      await rep.send(["world", String(i)]);
      assertEquals(text(await withTimeout(req.receive(), WAIT_MS, "the reply")), [
        "world",
        String(i),
      ]);
    }
  }));

Deno.test("DEALER/ROUTER: the ROUTER sees each dealer's routing id and answers that dealer", () =>
  withContext(async (ctx) => {
    const router = ctx.socket("router");
    const endpoint = router.bind(LOCAL);
    const alice = ctx.socket("dealer", { routingId: "alice" });
    const bob = ctx.socket("dealer", { routingId: "bob" });
    alice.connect(endpoint);
    bob.connect(endpoint);
    await alice.send(["from alice"]);
    await bob.send(["from bob"]);
    const seen = new Map<string, string>();
    for (let i = 0; i < 2; i++) {
      const [id, body] = text(await withTimeout(router.receive(), WAIT_MS, "a dealer's message"));
      seen.set(id!, body!);
    }
    assertEquals(Object.fromEntries(seen), { alice: "from alice", bob: "from bob" });
    await router.send(["bob", "to bob"]);
    await router.send(["alice", "to alice"]);
    assertEquals(text(await withTimeout(alice.receive(), WAIT_MS, "alice's reply")), ["to alice"]);
    assertEquals(text(await withTimeout(bob.receive(), WAIT_MS, "bob's reply")), ["to bob"]);
  }));

Deno.test("PUB/SUB: a subscriber gets only its prefix, and nothing more after unsubscribing", () =>
  withContext(async (ctx) => {
    const pub = ctx.socket("pub");
    const sub = ctx.socket("sub", { subscribe: ["weather."] });
    sub.connect(pub.bind(LOCAL));
    // Slow joiner: the subscription reaches the publisher some time after connect.
    const first = await repeatUntil(sub.receive(), async () => {
      await pub.send(["news.probe", "filtered out"]);
      await pub.send(["weather.probe", "sun"]);
    }, "the first weather message");
    assertEquals(text(first), ["weather.probe", "sun"]);
    // One connection keeps order: after the leftover probes come exactly these.
    await pub.send(["news.1", "no"]);
    await pub.send(["weather.1", "rain"]);
    await pub.send(["news.2", "no"]);
    await pub.send(["weather.2", "snow"]);
    const got: string[][] = [];
    while (got.length < 2) {
      const frames = text(await withTimeout(sub.receive(), WAIT_MS, "weather.1 and weather.2"));
      assert(frames[0]!.startsWith("weather."), `Unsubscribed topic arrived: ${frames}`);
      if (frames[0] !== "weather.probe") got.push(frames);
    }
    assertEquals(got, [["weather.1", "rain"], ["weather.2", "snow"]]);

    // Unsubscribe and subscribe travel in order: once "alerts." passes, "weather." must not.
    sub.unsubscribe("weather.");
    sub.subscribe("alerts.");
    let frames: string[] = [];
    while (frames[0] !== "alerts.probe") {
      const next = sub.receive();
      frames = text(
        await repeatUntil(next, async () => {
          await pub.send(["weather.after", "maybe"]);
          await pub.send(["alerts.probe", "!"]);
        }, "the first alerts message"),
      );
    }
    await pub.send(["weather.late", "must not arrive"]);
    await pub.send(["alerts.end", "!"]);
    while (frames[0] !== "alerts.end") {
      frames = text(await withTimeout(sub.receive(), WAIT_MS, "alerts.end"));
      assert(frames[0]!.startsWith("alerts."), `"${frames[0]}" arrived after unsubscribing`);
    }
  }));

Deno.test("PUSH/PULL: messages arrive in the order pushed", () =>
  withContext(async (ctx) => {
    const pull = ctx.socket("pull");
    const push = ctx.socket("push");
    push.connect(pull.bind(LOCAL));
    for (let i = 0; i < 100; i++) await push.send(["job", String(i)]);
    for (let i = 0; i < 100; i++) {
      assertEquals(text(await withTimeout(pull.receive(), WAIT_MS, `job ${i}`)), [
        "job",
        String(i),
      ]);
    }
  }));

Deno.test("PAIR: both ends send and receive", () =>
  withContext(async (ctx) => {
    const a = ctx.socket("pair");
    const b = ctx.socket("pair");
    b.connect(a.bind(LOCAL));
    await a.send(["to b", "1"]);
    assertEquals(text(await withTimeout(b.receive(), WAIT_MS, "a's message")), ["to b", "1"]);
    await b.send("to a");
    assertEquals(text(await withTimeout(a.receive(), WAIT_MS, "b's message")), ["to a"]);
  }));

/** A deterministic, non-repeating-looking 1 MiB frame. */
function mebibyte(): Uint8Array {
  const frame = new Uint8Array(1024 * 1024);
  let x = 2463534242;
  for (let i = 0; i < frame.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    frame[i] = x & 0xff;
  }
  return frame;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((byte, i) => byte === b[i]);
}

Deno.test("multipart messages keep all 256 byte values, empty frames and a 1 MiB frame", () =>
  withContext(async (ctx) => {
    const router = ctx.socket("router");
    const dealer = ctx.socket("dealer");
    dealer.connect(router.bind(LOCAL));
    const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
    const big = mebibyte();
    const empty = new Uint8Array(0);
    const frames = [empty, binary, empty, big, "tail ✓", empty];
    await dealer.send(frames);
    const [id, ...got] = await withTimeout(router.receive(), WAIT_MS, "the multipart message");
    assertEquals(got.map((f) => f.length), [0, 256, 0, big.length, 8, 0]);
    assertEquals(
      hex(got.filter((f) => f.length < 1000)),
      hex([empty, binary, empty, new TextEncoder().encode("tail ✓"), empty]),
    );
    assert(sameBytes(got[3], big), "The 1 MiB frame changed on its way to the ROUTER");
    // And back again, through the ROUTER's routing frame.
    await router.send([id!, ...got]);
    const back = await withTimeout(dealer.receive(), WAIT_MS, "the echoed message");
    assertEquals(back.map((f) => f.length), [0, 256, 0, big.length, 8, 0]);
    assertEquals(back[1], binary);
    assert(sameBytes(back[3], big), "The 1 MiB frame changed on its way back");
    // PAIR carries the same message unchanged too.
    const a = ctx.socket("pair");
    const b = ctx.socket("pair");
    b.connect(a.bind(LOCAL));
    // A view into a larger buffer sends only its own bytes.
    await a.send([binary, empty, big, big.subarray(1000, 1010)]);
    const paired = await withTimeout(b.receive(), WAIT_MS, "the PAIR message");
    assertEquals(paired.map((f) => f.length), [256, 0, big.length, 10]);
    assert(sameBytes(paired[0], binary) && sameBytes(paired[2], big), "PAIR changed the frames");
    assertEquals(paired[3], big.slice(1000, 1010));
  }));

Deno.test("a ROUTER send to an unknown routing id rejects with EHOSTUNREACH", () =>
  withContext(async (ctx) => {
    const router = ctx.socket("router");
    const dealer = ctx.socket("dealer", { routingId: "known" });
    dealer.connect(router.bind(LOCAL));
    const error = await assertRejects(() => router.send(["nobody", "hello"]), ZmqError);
    assertEquals(error.code, "EHOSTUNREACH");
    // The failure is per message: the socket still routes to a peer it knows.
    await dealer.send("hi");
    const [id] = await withTimeout(router.receive(), WAIT_MS, "the dealer's hello");
    await router.send([id!, "still works"]);
    assertEquals(text(await withTimeout(dealer.receive(), WAIT_MS, "the reply")), ["still works"]);
    // Without routerMandatory the same send is silently dropped.
    const lax = ctx.socket("router", { routerMandatory: false });
    lax.bind(LOCAL);
    await lax.send(["nobody", "dropped"]);
  }));

Deno.test("bind to a busy port throws EADDRINUSE", () =>
  withContext(async (ctx) => {
    const endpoint = ctx.socket("rep").bind(LOCAL);
    const error = catchSync(() => ctx.socket("rep").bind(endpoint));
    assert(error instanceof ZmqError, `Expected a ZmqError, got ${error}`);
    assertEquals(error.code, "EADDRINUSE");
    assert(error.message.includes(endpoint), `The message should name "${endpoint}"`);
    await Promise.resolve();
  }));

Deno.test("connect to a malformed endpoint throws EINVAL", () =>
  withContext(async (ctx) => {
    for (const endpoint of ["tcp://no-port-here", "no-scheme-at-all", "tcp://127.0.0.1:port"]) {
      const error = catchSync(() => ctx.socket("req").connect(endpoint));
      assert(error instanceof ZmqError, `${endpoint}: expected a ZmqError, got ${error}`);
      assertEquals(error.code, "EINVAL", endpoint);
    }
    await Promise.resolve();
  }));

Deno.test({
  name: "CURVE: a client with the server's public key exchanges messages; a wrong key gets nothing",
  ignore: !loadLibzmq().curve,
  fn: () =>
    withContext(async (ctx) => {
      assert(ctx.libzmq.curve);
      const server = curveKeyPair();
      const client = curveKeyPair();
      assertEquals([server.publicKey.length, server.secretKey.length], [40, 40]);
      const rep = ctx.socket("rep", { curveServer: true, curveSecretKey: server.secretKey });
      const endpoint = rep.bind(LOCAL);
      const req = ctx.socket("req", {
        curveServerKey: server.publicKey,
        curvePublicKey: client.publicKey,
        curveSecretKey: client.secretKey,
      });
      req.connect(endpoint);
      await req.send(["secret", "1"]);
      assertEquals(text(await withTimeout(rep.receive(), WAIT_MS, "the encrypted request")), [
        "secret",
        "1",
      ]);
      await rep.send("safe");
      assertEquals(text(await withTimeout(req.receive(), WAIT_MS, "the encrypted reply")), [
        "safe",
      ]);
      // A client that trusts another key fails the handshake: nothing reaches the server.
      const impostor = curveKeyPair();
      const wrong = ctx.socket("dealer", {
        curveServerKey: impostor.publicKey,
        curvePublicKey: client.publicKey,
        curveSecretKey: client.secretKey,
      });
      wrong.connect(endpoint);
      await wrong.send(["", "should not arrive"]);
      await delay(300);
      assertEquals(rep.tryReceive(), undefined);
    }),
});

function catchSync(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}
