/**
 * Interop with a ZeroMQ peer nobody here wrote: Debian's pyzmq (run by
 * /usr/bin/python3) exchanges multipart messages, with empty and binary frames,
 * with pipelinin sockets in both directions for REQ/REP, DEALER/ROUTER and PUB/SUB.
 */
import { assertEquals } from "./_assert.ts";
import { ChildProcess, hex, repeatUntil, withContext, withTimeout } from "./_helpers.ts";
import type { Context } from "../core/zmq/mod.ts";

const PYTHON = "/usr/bin/python3";
const PEER = new URL("./fixtures/pyzmq_transport_peer.py", import.meta.url).pathname;
const COUNT = 3;
const WAIT_MS = 10_000;

const hasPyzmq = await new Deno.Command(PYTHON, { args: ["-c", "import zmq"], stderr: "null" })
  .output().then((result) => result.success, () => false);

const encoder = new TextEncoder();
const binary = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
const empty = new Uint8Array(0);

/** Message `i` that pipelinin sends. */
function denoFrames(i: number): Uint8Array[] {
  return [
    encoder.encode("deno"),
    encoder.encode(String(i)),
    empty,
    binary,
    encoder.encode("ünïcode ✓"),
  ];
}

/** Message `i` that the Python peer sends (`python_frames` in the fixture). */
function pythonFrames(i: number): Uint8Array[] {
  return [
    encoder.encode("py"),
    encoder.encode(String(i)),
    empty,
    Uint8Array.from({ length: 256 }, (_, b) => b),
    encoder.encode("ünïcode ✓"),
  ];
}

/** Starts the Python peer; the caller disposes it (kill) with `await using`. */
function startPeer(role: string, endpoint: string): ChildProcess {
  return new ChildProcess(PYTHON, [PEER, role, endpoint, String(COUNT)]);
}

/** Reads the peer's `{"ready": endpoint}` line. */
async function ready(peer: ChildProcess): Promise<string> {
  const line = await peer.nextJson<{ ready?: string }>();
  if (typeof line.ready !== "string") {
    throw new Error(`Expected readiness, got ${JSON.stringify(line)}`);
  }
  return line.ready;
}

/** Reads the peer's next `{"got": [...]}` line as hex frames. */
async function peerGot(peer: ChildProcess): Promise<string[]> {
  const line = await peer.nextJson<{ got?: string[] }>();
  if (!Array.isArray(line.got)) throw new Error(`Expected a message, got ${JSON.stringify(line)}`);
  return line.got;
}

/** Expects the peer to report it is done and to exit with code 0. */
async function finished(peer: ChildProcess): Promise<void> {
  assertEquals(await peer.nextJson(), { done: true });
  assertEquals((await peer.status()).code, 0, "the pyzmq peer's exit code");
}

function interop(name: string, fn: (ctx: Context) => Promise<void>): void {
  Deno.test({
    name: hasPyzmq ? name : `${name} (skipped: ${PYTHON} cannot import zmq)`,
    ignore: !hasPyzmq,
    fn: () => withContext(fn),
  });
}

interop("pyzmq REQ -> our REP: multipart requests and replies arrive intact", async (ctx) => {
  const rep = ctx.socket("rep");
  const endpoint = rep.bind("tcp://127.0.0.1:0");
  await using peer = startPeer("req-connect", endpoint);
  await ready(peer);
  for (let i = 0; i < COUNT; i++) {
    assertEquals(
      hex(await withTimeout(rep.receive(), WAIT_MS, `request ${i}`)),
      hex(pythonFrames(i)),
    );
    await rep.send(denoFrames(i));
    assertEquals(await peerGot(peer), hex(denoFrames(i)));
  }
  await finished(peer);
});

interop("our REQ -> pyzmq REP: multipart requests and replies arrive intact", async (ctx) => {
  await using peer = startPeer("rep-bind", "tcp://127.0.0.1:*");
  const req = ctx.socket("req");
  req.connect(await ready(peer));
  for (let i = 0; i < COUNT; i++) {
    await req.send(denoFrames(i));
    assertEquals(await peerGot(peer), hex(denoFrames(i)));
    assertEquals(
      hex(await withTimeout(req.receive(), WAIT_MS, `reply ${i}`)),
      hex(pythonFrames(i)),
    );
  }
  await finished(peer);
});

interop("pyzmq DEALER -> our ROUTER: messages arrive and replies route back", async (ctx) => {
  const router = ctx.socket("router");
  const endpoint = router.bind("tcp://127.0.0.1:0");
  await using peer = startPeer("dealer-connect", endpoint);
  await ready(peer);
  for (let i = 0; i < COUNT; i++) {
    const [id, ...frames] = await withTimeout(router.receive(), WAIT_MS, `message ${i}`);
    assertEquals(hex(frames), hex(pythonFrames(i)));
    await router.send([id!, ...denoFrames(i)]);
  }
  for (let i = 0; i < COUNT; i++) assertEquals(await peerGot(peer), hex(denoFrames(i)));
  await finished(peer);
});

interop("our DEALER -> pyzmq ROUTER: messages arrive and replies route back", async (ctx) => {
  await using peer = startPeer("router-bind", "tcp://127.0.0.1:*");
  const dealer = ctx.socket("dealer", { routingId: encoder.encode("deno-dealer") });
  dealer.connect(await ready(peer));
  for (let i = 0; i < COUNT; i++) {
    await dealer.send(denoFrames(i));
    assertEquals(await peerGot(peer), hex(denoFrames(i)));
    assertEquals(
      hex(await withTimeout(dealer.receive(), WAIT_MS, `reply ${i}`)),
      hex(pythonFrames(i)),
    );
  }
  await finished(peer);
});

interop(
  "pyzmq PUB -> our SUB: the subscribed prefix arrives intact, others do not",
  async (ctx) => {
    await using peer = startPeer("pub-bind", "tcp://127.0.0.1:*");
    const sub = ctx.socket("sub", { subscribe: ["topic"] });
    sub.connect(await ready(peer));
    // pyzmq publishes "other" and "topic" messages in turn until told to stop.
    for (let i = 0; i < COUNT; i++) {
      const frames = await withTimeout(sub.receive(), WAIT_MS, `publication ${i}`);
      assertEquals(hex(frames), hex([encoder.encode("topic"), ...pythonFrames(0)]));
    }
    await peer.say("stop");
    await finished(peer);
  },
);

interop(
  "our PUB -> pyzmq SUB: the subscribed prefix arrives intact, others do not",
  async (ctx) => {
    const pub = ctx.socket("pub");
    const endpoint = pub.bind("tcp://127.0.0.1:0");
    await using peer = startPeer("sub-connect", endpoint);
    await ready(peer);
    // Slow joiner: publish until pyzmq's subscription has reached us and a message got through.
    const got = await repeatUntil(peerGot(peer), async () => {
      await pub.send([encoder.encode("other"), ...denoFrames(0)]);
      await pub.send([encoder.encode("topic"), ...denoFrames(0)]);
    }, "pyzmq to receive a publication");
    assertEquals(got, hex([encoder.encode("topic"), ...denoFrames(0)]));
    await finished(peer);
  },
);
