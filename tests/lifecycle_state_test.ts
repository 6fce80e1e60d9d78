/**
 * The Router's and the Pipeliner's start handles say where each daemon is in its
 * life, in one process as the lean cluster runs them.
 */
import { assertEquals } from "./_assert.ts";
import { freePort } from "./_cluster.ts";
import { start as startPipeliner } from "../pipeliner/mod.ts";
import { start as startRouter } from "../router/mod.ts";

Deno.test("the Router and a pipeliner report running, then stopped, and a second stop waits for the first", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "pipelinin-lifecycle-" });
  const router = startRouter({
    api: `tcp://127.0.0.1:${freePort()}`,
    broadcast: `tcp://127.0.0.1:${freePort()}`,
    dataDir,
    http: "off",
  });
  try {
    assertEquals(router.state, "running");
    const pipeliner = await startPipeliner({ router: router.api });
    try {
      assertEquals(pipeliner.state, "running");
      const deadline = Date.now() + 10_000;
      while (router.registry.pipeliners.size === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assertEquals(router.registry.pipeliners.has(pipeliner.id), true);
    } finally {
      const first = pipeliner.stop();
      assertEquals(pipeliner.state, "stopping");
      await Promise.all([first, pipeliner.stop()]);
      assertEquals(pipeliner.state, "stopped");
    }
  } finally {
    const first = router.stop();
    assertEquals(router.state, "stopping");
    await Promise.all([first, router.stop()]);
    assertEquals(router.state, "stopped");
    await Deno.remove(dataDir, { recursive: true });
  }
});
