/**
 * A client nobody here wrote: a pyzmq script written from docs/protocol.md alone
 * submits a pipeline and waits for it.
 */
import { assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";

const python = "/usr/bin/python3";
const hasPyzmq = await new Deno.Command(python, { args: ["-c", "import zmq"] }).output()
  .then((r) => r.success, () => false);

Deno.test({
  name:
    "a Python pyzmq client written from docs/protocol.md submits a pipeline and gets its document",
  ignore: !hasPyzmq,
  async fn() {
    await using cluster = await Cluster.start();
    const script = new URL("./fixtures/submit_pipeline.py", import.meta.url).pathname;
    const run = new Deno.Command(python, {
      args: [script, cluster.api, cluster.broadcast],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const killer = setTimeout(() => run.kill("SIGKILL"), 60_000);
    const output = await run.output();
    clearTimeout(killer);
    const stderr = new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 0, stderr);
    const record = JSON.parse(new TextDecoder().decode(output.stdout));
    assertEquals(record.status, "succeeded", JSON.stringify(record));
    assertEquals(record.document, { n: 42, from: "python" });
    assertEquals(record.jobs.map((j: { jobId: string }) => j.jobId), ["first", "second"]);
  },
});
