/**
 * A function writes to its host's file descriptors 1 and 2, which its Web Worker
 * shares: forged frames and garbage. The host's channel to its broker is elsewhere,
 * so nothing it writes is parsed: the host lives, its job completes, and no forged
 * line shows as another function's log.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { run } from "./_sandbox.ts";

const WRITER = `
import { writeSync } from "node:fs";
const frame = (value) => {
  const json = new TextEncoder().encode(JSON.stringify(value));
  const bytes = new Uint8Array(4 + json.length);
  new DataView(bytes.buffer).setUint32(0, json.length);
  bytes.set(json, 4);
  return bytes;
};
const forged = {
  type: "job-log", fn: "victim", jobId: "victim", pipelineId: "forged",
  record: { time: Date.now(), level: "error", message: "FORGED LINE" },
};
const stray = { type: "log", id: null, record: { time: 0, level: "error", message: "FORGED STRAY" } };
const write = (fd, bytes) => { try { writeSync(fd, bytes); } catch { /* closed */ } };
export default () => {
  for (const fd of [1, 2]) {
    write(fd, frame(forged));
    write(fd, frame(stray));
    write(fd, frame({ type: "drained" }));
    write(fd, new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    write(fd, new TextEncoder().encode("plain text\\n"));
  }
  return { wrote: true };
};
`;

Deno.test("what a function writes to fd 1 and fd 2 is never read as its host's frames", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-functions-" });
  try {
    await Deno.writeTextFile(`${dir}/writer.ts`, WRITER);
    await Deno.writeTextFile(`${dir}/victim.ts`, "export default () => ({ fine: true });\n");
    await using cluster = await Cluster.start({
      waitFor: ["writer", "victim"],
      functionsDir: dir,
      workers: 1,
    });
    const first = await run(cluster, { graph: { writer: ["victim"] } });
    const second = await run(cluster, { graph: { victim: ["writer"] } });
    const logs = cluster.logs();
    for (const result of [first, second]) {
      assertEquals(result.status, "succeeded", `${JSON.stringify(result.jobs)}\n${logs}`);
    }
    assert(!logs.includes("FORGED"), logs);
    assert(!/Worker host \d+ exited/.test(logs), logs);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
