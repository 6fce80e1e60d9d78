/**
 * `deno task start` stopped with Ctrl-C: the terminal signals the whole process group,
 * so the worker hosts end at the same moment as the cluster process. That is a stop,
 * not a crash: no warning, no "malformed frame", exit code 0.
 */
import { assert, assertEquals } from "./_assert.ts";
import { freePort } from "./_ports.ts";
import { CLUSTER_FLAGS, clusterEnv } from "../deno_flags.ts";
import { PipelineManager } from "../mod.ts";

const root = new URL("..", import.meta.url).pathname;

Deno.test("Ctrl-C on deno task start stops every process quietly, with no warning", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "pipelinin-test-" });
  const [api, broadcast] = [`tcp://127.0.0.1:${freePort()}`, `tcp://127.0.0.1:${freePort()}`];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...CLUSTER_FLAGS,
      "main.ts",
      ...["--api", api, "--broadcast", broadcast, "--data-dir", dataDir, "--http", "off"],
      ...["--functions", "tests/fixtures/functions", "--workers", "2"],
    ],
    cwd: root,
    env: { ...clusterEnv(), NO_COLOR: "1", PIPELININ_LOG_LEVEL: "info" },
    // Its own process group, as a terminal's foreground job is.
    detached: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  const reading = Promise.all([child.stdout, child.stderr].map(async (stream) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) output.push(text);
  }));
  const manager = new PipelineManager({ api, broadcast });
  try {
    const deadline = Date.now() + 30_000;
    while (!(await manager.functions()).some((fn) => fn.name === "ok" && fn.brokers.length > 0)) {
      assert(Date.now() < deadline, `no function served in time:\n${output.join("")}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const id = await manager.start({ graph: { ok: [] }, data: { n: 1 } });
    assertEquals((await manager.wait(id, { timeoutMs: 30_000 })).status, "succeeded");
    await manager.close();
    Deno.kill(-child.pid, "SIGINT");
    const status = await child.status;
    await reading;
    const text = output.join("");
    assertEquals(status.code, 0, text);
    assert(!/\[(WRN|ERR)\]/.test(text), `no warning or error:\n${text}`);
    assert(!text.includes("malformed"), text);
    assert(text.includes("Router stopped"), text);
  } finally {
    await manager.close();
    try {
      Deno.kill(-child.pid, "SIGKILL"); // Whatever is left of its group, on failure.
    } catch { /* gone */ }
    await child.status;
    await reading.catch(() => {});
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
