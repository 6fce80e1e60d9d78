/**
 * `maxMessageSize` on real sockets: libzmq refuses a big tcp frame, and a message
 * whose frames add up to more than the cap is dropped on every transport, inproc too.
 */
import { assert, assertEquals } from "./_assert.ts";
import { text, withContext, withTimeout } from "./_helpers.ts";
import { Context, DEFAULT_MAX_MESSAGE_SIZE } from "../core/zmq/mod.ts";
import { PipelineManager } from "../mod.ts";

const WAIT_MS = 10_000;
const KB = 1024;
const encoder = new TextEncoder();

for (const endpoint of ["tcp://127.0.0.1:0", "inproc://caps-test"]) {
  Deno.test(`over ${endpoint.split(":")[0]}, a message over maxMessageSize is dropped and the next arrives`, () =>
    withContext(async (ctx) => {
      const server = ctx.socket("router", { maxMessageSize: 100 * KB });
      const client = ctx.socket("dealer", { maxMessageSize: -1 });
      client.connect(server.bind(endpoint));
      // Many frames each under the cap, but over it together: no frame cap catches it.
      await client.send([new Uint8Array(60 * KB), new Uint8Array(60 * KB)]);
      if (endpoint.startsWith("inproc")) await client.send(new Uint8Array(200 * KB));
      await client.send("small");
      const [, body] = await withTimeout(server.receive(), WAIT_MS, "the small message");
      assertEquals(text([body!]), ["small"]);
      assertEquals(server.oversized, endpoint.startsWith("inproc") ? 2 : 1);
    }));
}

Deno.test("over tcp, a frame over maxMessageSize disconnects its sender before it is read", () =>
  withContext(async (ctx) => {
    const server = ctx.socket("router", { maxMessageSize: 100 * KB });
    const endpoint = server.bind("tcp://127.0.0.1:0");
    const big = ctx.socket("dealer", { maxMessageSize: -1, linger: 0 });
    big.connect(endpoint);
    await big.send(new Uint8Array(10 * 1024 * KB));
    const other = ctx.socket("dealer");
    other.connect(endpoint);
    await other.send("after");
    const [, body] = await withTimeout(server.receive(), WAIT_MS, "the next message");
    assertEquals(text([body!]), ["after"]);
    // libzmq refused the frame itself: JS never counted it.
    assertEquals(server.oversized, 0);
  }));

Deno.test("every socket gets the default cap, a context can set its own, and bad values throw", async () => {
  assert(DEFAULT_MAX_MESSAGE_SIZE >= 64 * 1024 * KB);
  const context = new Context({ maxMessageSize: 5 * KB });
  try {
    const server = context.socket("pull");
    const client = context.socket("push", { maxMessageSize: -1 });
    client.connect(server.bind("inproc://caps-context"));
    await client.send(new Uint8Array(6 * KB));
    await client.send("ok");
    assertEquals(text(await withTimeout(server.receive(), WAIT_MS, "ok")), ["ok"]);
    assertEquals(server.oversized, 1);
    for (const bad of [-2, 1.5, NaN]) {
      let thrown: unknown;
      try {
        context.socket("pull", { maxMessageSize: bad });
      } catch (error) {
        thrown = error;
      }
      assert(thrown instanceof RangeError, `maxMessageSize ${bad} was taken`);
    }
  } finally {
    await context.close();
  }
});

Deno.test("the client drops a reply over its maxMessageSize: the request times out, the next is answered", () =>
  withContext(async (ctx) => {
    const router = ctx.socket("router");
    const endpoint = router.bind("tcp://127.0.0.1:0");
    const manager = new PipelineManager({
      api: endpoint,
      maxMessageSize: 4 * KB,
      requestTimeoutMs: 1000,
    });
    try {
      const answer = async (size: number) => {
        const [peer, tag, body] = await withTimeout(router.receive(), WAIT_MS, "a request");
        const { id } = JSON.parse(new TextDecoder().decode(body));
        const result = { id: "p", pad: "x".repeat(size) };
        await router.send([
          peer!,
          tag!,
          encoder.encode(JSON.stringify({ type: "reply", id, ok: true, result })),
        ]);
      };
      const first = manager.status("p").catch((error) => error.name);
      await answer(8 * KB);
      assertEquals(await first, "RequestTimeoutError");
      const second = manager.status("p");
      await answer(10);
      assertEquals((await second).id, "p");
    } finally {
      await manager.close();
    }
  }));
