/**
 * Brokers' stores: the seed's file store as an example, and a store error that fails
 * the job instead of hanging the pipeline (a seed bug).
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { DAEMON_FLAGS } from "../deno_flags.ts";

const WAIT = { timeoutMs: 30_000 };

Deno.test("with --file-store each pipeline's document is kept as one JSON file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-files-" });
  try {
    await using cluster = await Cluster.start({
      waitFor: ["tag"],
      brokerArgs: ["--file-store", dir],
      brokerPermissions: [`--allow-write=${dir}`],
    });
    const id = await cluster.manager.start({
      graph: { a: ["b", "c"] },
      jobs: { a: "tag", b: "tag", c: "tag" },
      data: { seed: 1 },
    });
    const result = await cluster.manager.wait(id, WAIT);
    assertEquals(result.status, "succeeded", cluster.logs());
    const stored = JSON.parse(await Deno.readTextFile(`${dir}/${id}.json`));
    assertEquals(stored, { seed: 1, a: ["seed"], b: ["a", "seed"], c: ["a", "seed"] });
    assertEquals(result.document, stored);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a store error fails the job with that error; the pipeline ends", async () => {
  // A folder the broker may not write: every save fails.
  await using cluster = await Cluster.start({
    brokerArgs: ["--file-store", "/proc/pipelinin-cannot-write"],
    brokerPermissions: ["--allow-write=/proc/pipelinin-cannot-write"],
  });
  const id = await cluster.manager.start({ graph: { ok: ["tag"] }, data: { n: 1 } });
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "failed");
  const error = result.jobs[0]?.error;
  assert(error && error.message.length > 0, JSON.stringify(result.jobs[0]));
  assertEquals(result.jobs[1]?.status, "skipped");
});

Deno.test("a broker started with --file-store but no write permission says how to fix it", async () => {
  // Killed after 30 s: a broker that could write there would run on instead of failing.
  const child = await new Deno.Command(Deno.execPath(), {
    signal: AbortSignal.timeout(30_000),
    args: [
      "run",
      ...DAEMON_FLAGS.broker,
      "broker/main.ts",
      "--file-store",
      "/tmp/somewhere",
      "--router",
      "tcp://127.0.0.1:1",
    ],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assertEquals(child.code, 1);
  const text = new TextDecoder().decode(child.stdout) + new TextDecoder().decode(child.stderr);
  assert(text.includes("--allow-write=/tmp/somewhere"), text);
});
