/**
 * Batches on the request socket: several messages in one ZeroMQ message (the
 * protocol frame, then one JSON frame each). A peer that sends batches gets its
 * replies batched; a peer that never does gets only plain two-frame messages.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import type { Socket } from "../core/zmq/mod.ts";
import { withContext } from "./_helpers.ts";
import { PROTOCOL } from "../core/protocol/mod.ts";

const encoder = new TextEncoder();
const json = (value: unknown) => encoder.encode(JSON.stringify(value));
const tag = encoder.encode(PROTOCOL);

/** Runs `body` with a cluster and a plain DEALER connected to its Router, and stops both. */
async function withPeer(body: (peer: Socket) => Promise<void>): Promise<void> {
  await using cluster = await Cluster.start();
  await withContext(async (context) => {
    const peer = context.socket("dealer", { linger: 0 });
    peer.connect(cluster.api);
    await body(peer);
  });
}

/** Reads messages until `count` JSON bodies arrived; returns each message's frame count and the bodies. */
async function bodies(peer: Socket, count: number) {
  const frameCounts: number[] = [];
  const messages: Array<Record<string, unknown>> = [];
  while (messages.length < count) {
    const frames = await peer.receive();
    frameCounts.push(frames.length);
    assertEquals(new TextDecoder().decode(frames[0]), PROTOCOL);
    for (const body of frames.slice(1)) messages.push(JSON.parse(new TextDecoder().decode(body)));
  }
  return { frameCounts, messages };
}

Deno.test("a batch of requests is answered request by request, a bad one alone failing, in a batch back", async () => {
  await withPeer(async (peer) => {
    await peer.send([
      tag,
      json({ type: "get-configuration", id: "a" }),
      encoder.encode("{not json"),
      json({ type: "status", id: "b", pipelineId: "no-such-pipeline" }),
      json({ type: "list-functions", id: "c" }),
    ]);
    const { frameCounts, messages } = await bodies(peer, 4);
    const byId = new Map(messages.map((m) => [m.id ?? m.type, m]));
    assertEquals(byId.get("a")?.ok, true);
    assertEquals((byId.get("b")?.error as { name: string }).name, "PipelineNotFoundError");
    assertEquals(byId.get("c")?.ok, true);
    assert(
      String((byId.get("error")?.error as { message: string }).message).includes("Malformed JSON"),
      "the malformed part got an error event",
    );
    assert(frameCounts.some((n) => n > 2), `replies came batched: ${frameCounts}`);
  });
});

Deno.test("a peer that never sent a batch only ever gets two-frame messages", async () => {
  await withPeer(async (peer) => {
    // Sent back to back, so the Router reads them in one round and answers them together.
    await Promise.all(
      Array.from(
        { length: 50 },
        (_, n) => peer.send([tag, json({ type: "get-configuration", id: `r${n}` })]),
      ),
    );
    const { frameCounts, messages } = await bodies(peer, 50);
    assertEquals(
      messages.map((m) => m.id).sort(),
      Array.from({ length: 50 }, (_, n) => `r${n}`).sort(),
    );
    assertEquals(frameCounts.filter((n) => n !== 2), []);
  });
});
