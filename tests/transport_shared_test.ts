/**
 * The process's shared context (`shareOneContext`): contexts made after it share one
 * libzmq context and poll loop, a connect to a tcp endpoint that one of them bound
 * travels inproc (no TCP connection at all), a peer in another process still comes in
 * over tcp to the same socket, and the last close terminates the shared context.
 */
import { assert, assertEquals } from "./_assert.ts";
import { text, withTimeout } from "./_helpers.ts";
import { Context, shareOneContext } from "../core/zmq/mod.ts";

const root = new URL("..", import.meta.url).pathname;

/** Runs `fn` with sharing on, and off again afterwards whatever happens. */
async function sharing(fn: () => Promise<void>): Promise<void> {
  shareOneContext();
  try {
    await fn();
  } finally {
    shareOneContext(false);
  }
}

/** TCP connections in state ESTABLISHED with `port` at either end (Linux). */
function establishedOn(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  let count = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let table = "";
    try {
      table = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const line of table.split("\n").slice(1)) {
      const [, local, remote, state] = line.trim().split(/\s+/);
      if (state === "01" && (local?.endsWith(`:${hex}`) || remote?.endsWith(`:${hex}`))) count++;
    }
  }
  return count;
}

/** Echoes every message back to its sender until the socket closes. */
async function echo(router: ReturnType<Context["socket"]>): Promise<string[]> {
  const seen: string[] = [];
  for await (const [peer, ...body] of router) {
    seen.push(new TextDecoder().decode(peer));
    await router.send([peer!, ...body]);
  }
  return seen;
}

Deno.test("in the shared context, a tcp connect to a socket bound there goes inproc; another process still uses tcp", () =>
  sharing(async () => {
    const server = new Context();
    const client = new Context();
    const router = server.socket("router");
    const endpoint = router.bind("tcp://127.0.0.1:0");
    assert(endpoint.startsWith("tcp://127.0.0.1:"), `bind returns its tcp endpoint: ${endpoint}`);
    assertEquals(router.lastEndpoint, endpoint);
    const echoed = echo(router);
    const dealer = client.socket("dealer", { routingId: "same-process" });
    dealer.connect(endpoint);
    assert(
      dealer.lastEndpoint.startsWith("inproc://"),
      `connected through ${dealer.lastEndpoint}`,
    );
    for (let i = 0; i < 100; i++) {
      await dealer.send(["ping", String(i)]);
      assertEquals(text(await withTimeout(dealer.receive(), 5000, "echo")), ["ping", String(i)]);
    }
    const port = Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
    if (Deno.build.os === "linux") assertEquals(establishedOn(port), 0, "no TCP connection");

    const other = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-ffi",
        "--allow-read",
        "--allow-env",
        "--allow-sys",
        `${root}tests/fixtures/dealer_once.ts`,
        endpoint,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(other.success, new TextDecoder().decode(other.stderr));
    const got = JSON.parse(new TextDecoder().decode(other.stdout));
    assertEquals(got, { reply: "ping", via: endpoint });

    dealer.disconnect(endpoint); // Through its alias.
    await client.close();
    assertEquals(server.size, 1, "closing one handle leaves the other's sockets open");
    await server.close();
    const peers = await withTimeout(echoed, 5000, "the echo loop to end");
    assertEquals(peers.filter((p) => p === "same-process").length, 100);
    assert(peers.includes("other-process"), "the other process came in over tcp");
  }));

Deno.test("in the shared context, an unbound tcp endpoint loses its alias; sockets of one context share a loop with another's", () =>
  sharing(async () => {
    const a = new Context();
    const b = new Context({ hotWaitMs: 0 });
    try {
      const pull = a.socket("pull");
      const endpoint = pull.bind("tcp://127.0.0.1:0");
      const push = b.socket("push");
      push.connect(endpoint.replace("127.0.0.1", "localhost"));
      assert(push.lastEndpoint.startsWith("inproc://"), "localhost is the same endpoint");
      await push.send("one");
      assertEquals(text(await withTimeout(pull.receive(), 5000, "one")), ["one"]);
      const wide = a.socket("pull");
      const any = wide.bind("tcp://*:0"); // libzmq resolves it as tcp://0.0.0.0:<port>.
      const local = b.socket("push", { linger: 0 });
      local.connect(`tcp://127.0.0.1:${any.slice(any.lastIndexOf(":") + 1)}`);
      assert(local.lastEndpoint.startsWith("inproc://"), "a wildcard bind serves loopback too");
      pull.unbind(endpoint);
      const late = b.socket("push", { linger: 0 });
      late.connect(endpoint);
      assertEquals(late.lastEndpoint, endpoint, "no alias once unbound");
    } finally {
      await b.close();
      await a.close();
    }
    // The shared context ended with its last handle: a new one starts afresh.
    const again = new Context();
    const rep = again.socket("rep");
    const req = again.socket("req");
    req.connect(rep.bind("tcp://127.0.0.1:0"));
    await req.send("hi");
    assertEquals(text(await withTimeout(rep.receive(), 5000, "hi")), ["hi"]);
    await again.close();
  }));

Deno.test("without sharing, each context keeps its own: tcp stays tcp", async () => {
  const a = new Context();
  const b = new Context();
  try {
    const pull = a.socket("pull");
    const push = b.socket("push");
    const endpoint = pull.bind("tcp://127.0.0.1:0");
    push.connect(endpoint);
    assertEquals(push.lastEndpoint, endpoint);
    await push.send("x");
    assertEquals(text(await withTimeout(pull.receive(), 5000, "x")), ["x"]);
  } finally {
    await b.close();
    await a.close();
  }
});
