/**
 * The Web Worker boundary under attack: a function module that listens on `self` for
 * the messages its warm worker receives and posts forged results for every run id,
 * while many other pipelines of that function run on the same worker. None of their
 * results may be forged and none of their inputs may reach the spy's output.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { type PipelineResult } from "../mod.ts";
import { jobOf, run, tempDir } from "./_sandbox.ts";

/**
 * The spy: from its top-level code on it records every message event on `self`
 * (listener and `onmessage`), and while its own job runs it posts forged answers
 * for ids 1..2000 every few ms. Its other jobs echo their secret, slowly enough for
 * them to queue behind each other on the one warm worker.
 */
const SPY = `
const seen = [];
const record = (event) => { try { seen.push(JSON.stringify(event.data)); } catch { seen.push(String(event.data)); } };
self.addEventListener("message", record, true);
self.addEventListener("message", record);
try { self.onmessage = record; } catch {}
const forge = () => {
  for (let id = 1; id <= 2000; id++) {
    self.postMessage({ type: "ok", id, result: { kind: "run", output: { forged: true } } });
    self.postMessage({ type: "error", id, error: { name: "Error", message: "forged", retryable: false } });
  }
};
export default async (input) => {
  if (input.role !== "spy") {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { echo: input.secret };
  }
  const timer = setInterval(forge, 5);
  forge();
  await new Promise((resolve) => setTimeout(resolve, Number(input.ms ?? 800)));
  clearInterval(timer);
  return { seen: seen.join("\\n") };
};
`;

Deno.test("a job's code can touch only its own job", async (t) => {
  await using functions = await tempDir({ "spy.ts": SPY });
  await using cluster = await Cluster.start({
    functionsDir: functions.path,
    workers: 1,
    waitFor: ["spy"],
  });

  await t.step("a spy on self neither sees nor forges the other jobs on its worker", async () => {
    const spyRun = run(cluster, { graph: { spy: [] }, data: { role: "spy", ms: 1500 } });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const secrets = Array.from({ length: 12 }, (_, i) => `secret-${i}-${crypto.randomUUID()}`);
    const others: PipelineResult[] = await Promise.all(
      secrets.map((secret) =>
        run(cluster, { graph: { spy: [] }, data: { role: "victim", secret } })
      ),
    );
    const spy = await spyRun;
    for (const [at, result] of others.entries()) {
      const job = jobOf(result);
      assertEquals(job.status, "succeeded", JSON.stringify(job));
      assertEquals(job.output, { echo: secrets[at]! }, "a victim's result is its own");
    }
    const spyJob = jobOf(spy);
    assertEquals(spyJob.status, "succeeded", JSON.stringify(spyJob));
    const seen = String(spyJob.output?.seen ?? "");
    for (const secret of secrets) {
      assert(!seen.includes(secret), `the spy saw another job's input: ${seen.slice(0, 300)}`);
    }
    assert(!seen.includes('"type":"run"'), `the spy saw a run message: ${seen.slice(0, 300)}`);
  });
});
