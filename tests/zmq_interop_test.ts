/**
 * Interop with a ZeroMQ peer nobody here wrote: Debian's pyzmq, run by
 * /usr/bin/python3, exchanges multipart messages with pipelinin sockets both ways.
 */
import { assertEquals } from "./_assert.ts";
import { Context, type Socket, type SocketType } from "../core/zmq/mod.ts";

const python = "/usr/bin/python3";
const script = new URL("./fixtures/pyzmq_peer.py", import.meta.url).pathname;
const hasPyzmq = await new Deno.Command(python, { args: ["-c", "import zmq"] }).output()
  .then((r) => r.success, () => false);

const FRAMES = [
  new TextEncoder().encode("multi"),
  new Uint8Array(0),
  Uint8Array.from({ length: 256 }, (_, i) => i),
  new TextEncoder().encode("ünïcode"),
];
const hex = (frames: Uint8Array[]) =>
  frames.map((f) => [...f].map((b) => b.toString(16).padStart(2, "0")).join(""));

/** The Python side, killed in `finally` by whoever starts it. */
class Peer implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #lines: AsyncIterator<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;

  constructor(role: string, endpoint: string) {
    this.#child = new Deno.Command(python, {
      args: [script, role, endpoint],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    let rest = "";
    const lines: string[] = [];
    const reader = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#lines = {
      async next() {
        while (!lines.length) {
          const { value, done } = await reader.read();
          if (done) return { value: undefined, done: true };
          const parts = (rest + value).split("\n");
          rest = parts.pop()!;
          lines.push(...parts.filter(Boolean));
        }
        return { value: lines.shift()!, done: false };
      },
    };
  }

  async message(): Promise<Record<string, unknown>> {
    const next = await this.#lines.next();
    if (next.done) throw new Error("The pyzmq peer ended early");
    return JSON.parse(next.value);
  }

  async say(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(`${line}\n`));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* ended */ }
    await this.#stdin.close().catch(() => {});
    await this.#child.status;
    await this.#child.stdout.cancel().catch(() => {});
  }
}

function interop(name: string, fn: (ctx: Context) => Promise<void>) {
  Deno.test({
    name,
    ignore: !hasPyzmq,
    async fn() {
      const ctx = new Context();
      try {
        await fn(ctx);
      } finally {
        await ctx.close();
      }
    },
  });
}

function serve(ctx: Context, type: SocketType): [Socket, string] {
  const socket = ctx.socket(type);
  return [socket, socket.bind("tcp://127.0.0.1:0")];
}

interop("pyzmq REQ -> our REP, multipart both ways", async (ctx) => {
  const [rep, endpoint] = serve(ctx, "rep");
  await using peer = new Peer("req-connect", endpoint);
  assertEquals(hex(await rep.receive()), hex(FRAMES));
  await rep.send(FRAMES);
  assertEquals((await peer.message()).got, hex(FRAMES));
});

interop("our REQ -> pyzmq REP, multipart both ways", async (ctx) => {
  await using peer = new Peer("rep-bind", "tcp://127.0.0.1:*");
  const { endpoint } = await peer.message();
  const req = ctx.socket("req");
  req.connect(String(endpoint));
  await req.send(FRAMES);
  assertEquals(hex(await req.receive()), hex(FRAMES));
  assertEquals((await peer.message()).got, hex(FRAMES));
});

interop("pyzmq DEALER -> our ROUTER, and the reply routed back", async (ctx) => {
  const [router, endpoint] = serve(ctx, "router");
  await using peer = new Peer("dealer-connect", endpoint);
  const [id, ...frames] = await router.receive();
  assertEquals(hex(frames), hex(FRAMES));
  await router.send([id!, ...FRAMES]);
  assertEquals((await peer.message()).got, hex(FRAMES));
});

interop("our DEALER -> pyzmq ROUTER, and the reply routed back", async (ctx) => {
  await using peer = new Peer("router-bind", "tcp://127.0.0.1:*");
  const { endpoint } = await peer.message();
  const dealer = ctx.socket("dealer");
  dealer.connect(String(endpoint));
  await dealer.send(FRAMES);
  assertEquals(hex(await dealer.receive()), hex(FRAMES));
  assertEquals((await peer.message()).got, hex(FRAMES));
});

interop("pyzmq SUB receives what our PUB publishes", async (ctx) => {
  const [pub, endpoint] = serve(ctx, "pub");
  await using peer = new Peer("sub-connect", endpoint);
  const done = peer.message();
  let finished = false;
  done.then(() => (finished = true), () => (finished = true));
  const deadline = Date.now() + 15_000;
  while (!finished && Date.now() < deadline) {
    await pub.send([new TextEncoder().encode("topic"), ...FRAMES]);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assertEquals((await done).got, hex([new TextEncoder().encode("topic"), ...FRAMES]));
});

interop("our SUB receives what pyzmq PUB publishes", async (ctx) => {
  await using peer = new Peer("pub-bind", "tcp://127.0.0.1:*");
  const { endpoint } = await peer.message();
  const sub = ctx.socket("sub", { subscribe: ["topic"] });
  sub.connect(String(endpoint));
  await peer.say("go");
  const frames = await sub.receive();
  await peer.say("stop");
  assertEquals(hex(frames), hex([new TextEncoder().encode("topic"), ...FRAMES]));
  assertEquals((await peer.message()).done, true);
});
