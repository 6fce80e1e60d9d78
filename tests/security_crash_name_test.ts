/**
 * An error a function throws is never taken for a crash, whatever its name or
 * fields: a crash is retried whatever `retries` says and counts toward poison, so a
 * function that could pass its own error for one would get runs it was not given.
 * Only the sandbox marks crashes (`crashed`), from how a process or Web Worker died.
 */
import { assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { run } from "./_sandbox.ts";

const FILES: Record<string, string> = {
  "fake_oom.ts": `
export const config = { retries: 0 };
export default () => {
  throw Object.assign(new Error("pretending"), { name: "OutOfMemoryError", crashed: true });
};
`,
  "fake_crash.ts": `
export const config = { retries: 1 };
export default () => {
  throw Object.assign(new Error("pretending"), { name: "WorkerCrashedError", crashed: true });
};
`,
};

Deno.test("an error named like a crash is retried only as its function's retries say", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-functions-" });
  try {
    for (const [name, source] of Object.entries(FILES)) {
      await Deno.writeTextFile(`${dir}/${name}`, source);
    }
    await using cluster = await Cluster.start({
      waitFor: ["fake_oom", "fake_crash"],
      functionsDir: dir,
      workers: 1,
    });
    const [oom, crash] = await Promise.all([
      run(cluster, { graph: { fake_oom: [] } }),
      run(cluster, { graph: { fake_crash: [] } }),
    ]);
    const logs = cluster.logs();
    // retries: 0 -> one attempt, and its own error, not PoisonJobError.
    assertEquals(
      [oom.status, oom.jobs[0]?.attempts, oom.jobs[0]?.error?.name, oom.jobs[0]?.error?.crashed],
      ["failed", 1, "OutOfMemoryError", undefined],
      logs,
    );
    // retries: 1 -> two attempts, then its own error.
    assertEquals(
      [crash.status, crash.jobs[0]?.attempts, crash.jobs[0]?.error?.name],
      ["failed", 2, "WorkerCrashedError"],
      logs,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
