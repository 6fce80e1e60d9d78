/**
 * A hostile HTTP client against a real Router process: a chunked body that never
 * says its length is refused once it passes the cap, before the rest is read; event
 * streams beyond the bound are refused with 503 and come back once one closes.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Daemon, freePort } from "./_cluster.ts";
import { DAEMON_FLAGS } from "../deno_flags.ts";

const root = new URL("..", import.meta.url).pathname;

async function startRouter(dataDir: string): Promise<{ daemon: Daemon; http: string }> {
  const http = `127.0.0.1:${freePort()}`;
  const daemon = new Daemon("router", [
    "run",
    ...DAEMON_FLAGS.router,
    `${root}router/main.ts`,
    "--api",
    `tcp://127.0.0.1:${freePort()}`,
    "--broadcast",
    `tcp://127.0.0.1:${freePort()}`,
    "--data-dir",
    dataDir,
    "--http",
    http,
    "--max-body-bytes",
    "65536",
    "--max-streams",
    "2",
  ]);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`http://${http}/health`).then(async (r) => {
      await r.body?.cancel();
      return r.ok;
    }, () => false);
    if (ok) return { daemon, http: `http://${http}` };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await daemon.stop();
  throw new Error(`The Router did not answer on ${http}\n${daemon.output}`);
}

Deno.test("a chunked body over the cap is refused before the rest of it is read", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "pipelinin-http-" });
  const { daemon, http } = await startRouter(dataDir);
  try {
    const chunk = new TextEncoder().encode(" ".repeat(65_536));
    let pulled = 0;
    // Up to 400 MB, with no Content-Length: read whole, it would all be pulled first.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled++ >= 6_400) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${http}/pipelines`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const answer = await response.json();
    assertEquals([response.status, answer.error], [413, "The body is larger than 65536 bytes"]);
    assert(pulled < 1_000, `the client was made to send ${pulled} chunks of 64 KiB`);
    const health = await fetch(`${http}/health`);
    assertEquals(health.status, 200, daemon.output);
    await health.body?.cancel();
  } finally {
    await daemon.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("event streams past the bound get 503 with Retry-After, and a place frees when one closes", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "pipelinin-http-" });
  const { daemon, http } = await startRouter(dataDir);
  const open: Array<ReadableStreamDefaultReader<Uint8Array>> = [];
  try {
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${http}/events`);
      assertEquals(response.status, 200);
      open.push(response.body!.getReader());
    }
    const refused = await fetch(`${http}/events`);
    assertEquals(
      [refused.status, refused.headers.get("retry-after")],
      [503, "1"],
    );
    assert(/2 event streams are open, the limit is 2/.test((await refused.json()).error));
    await open.shift()!.cancel();
    // The Router notices the closed stream at its next write (at once, or its keep-alive).
    let status = 0;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const again = await fetch(`${http}/events`);
      status = again.status;
      if (status === 200) {
        open.push(again.body!.getReader());
        break;
      }
      await again.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assertEquals(status, 200, daemon.output);
  } finally {
    for (const reader of open) await reader.cancel().catch(() => {});
    await daemon.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
