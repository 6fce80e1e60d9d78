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

Deno.test("a store named as a module runs in the worker hosts, with the permissions it lists", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-store-" });
  try {
    await using cluster = await Cluster.start({
      waitFor: ["tag"],
      brokerArgs: [
        "--store",
        "tests/fixtures/stores/tagging_store.ts",
        "--store-options",
        JSON.stringify({ dir, tag: "fromStore" }),
        "--store-permissions",
        JSON.stringify({ write: [dir] }),
      ],
      brokerPermissions: [`--allow-write=${dir}`],
    });
    const id = await cluster.manager.start({ graph: { a: ["b"] }, jobs: { a: "tag", b: "tag" } });
    const result = await cluster.manager.wait(id, WAIT);
    assertEquals(result.status, "succeeded", cluster.logs());
    // Each job read its document through the store, and its output was saved there.
    assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/a.json`)), { a: ["fromStore"] });
    assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/b.json`)), {
      b: ["a", "fromStore"],
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a function gets none of its store's permissions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-store-" });
  const functions = await Deno.makeTempDir({ prefix: "pipelinin-functions-" });
  try {
    await Deno.writeTextFile(
      `${functions}/writes.ts`,
      `export default async (input) => {
        await Deno.writeTextFile(input.path, "sneaky");
        return {};
      };`,
    );
    await using cluster = await Cluster.start({
      waitFor: ["writes"],
      functionsDir: functions,
      brokerArgs: ["--file-store", dir],
      brokerPermissions: [`--allow-write=${dir}`],
    });
    const id = await cluster.manager.start({
      graph: { writes: [] },
      data: { path: `${dir}/sneaky.txt` },
    });
    const result = await cluster.manager.wait(id, WAIT);
    assertEquals(result.status, "failed", cluster.logs());
    assertEquals(result.jobs[0]?.error?.name, "NotCapable", JSON.stringify(result.jobs[0]));
    await Deno.stat(`${dir}/sneaky.txt`).then(
      () => assert(false, "the function wrote into the store's folder"),
      (error) => assert(error instanceof Deno.errors.NotFound),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(functions, { recursive: true });
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

Deno.test("a broker whose store module cannot load fails at start, with the host's error", async () => {
  const child = await new Deno.Command(Deno.execPath(), {
    signal: AbortSignal.timeout(30_000),
    args: [
      "run",
      ...DAEMON_FLAGS.broker,
      "broker/main.ts",
      "--store",
      "/nonexistent/pipelinin-store.ts",
      "--workers",
      "1",
      "--functions",
      "tests/fixtures/functions",
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
  assert(text.includes("Worker host failed to start"), text);
  assert(text.includes("pipelinin-store.ts"), text);
});
